from dockergen.launcher import main

main()
