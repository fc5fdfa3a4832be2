"""Step 2, read: Dockerfiles (BuildKit's parser), Compose files (and the Compose CLI's view of
each ``-f`` set), env files and ignore files, as plain values."""
