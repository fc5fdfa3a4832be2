"""``dockergen import``: turn an existing sprawl of Dockerfiles and Compose files into one spec.

The package is the import's pipeline, one folder (or module) per step, in order:

``discover``      find Dockerfiles/Containerfiles, Compose files, env and ignore files in a tree
``read/``         Dockerfiles (BuildKit's parser), Compose files (ruamel; the Compose CLI's
                  effective config per ``-f`` set), env files, ignore files: plain values
``environments/`` which ``-f`` chain is which environment (from names, contents, or given)
``group/``        one canonical service per logical service; each image's Dockerfile variants
                  as the stages of one generic Dockerfile
``factor/``       an effective Compose service as spec settings (``compose:`` for the rest),
                  factored into service level + environment blocks
``spec/``         the spec document and its text; what to carry verbatim when it does not render
``verify/``       render the spec and compare every environment and target with the originals

``plan`` holds the values the steps pass on; ``analyze`` runs the steps (files in -> an
``ImportPlan``); ``findings`` reads the plan for accidental inconsistencies between
variants and environments; ``report`` prints the migration report. Only ``analyze``,
``read/compose_cli`` and ``verify`` do I/O; everything else is pure.
"""
