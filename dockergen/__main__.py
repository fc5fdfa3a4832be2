from dockergen.cli import main

main()
