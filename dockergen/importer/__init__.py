"""``dockergen import``: turn an existing sprawl of Dockerfiles and Compose files into one spec.

The package is a pipeline of small steps, each a module with one job:

``discover``      find Dockerfiles/Containerfiles, Compose files, env files in a tree
``dockerfile``    parse a Dockerfile with BuildKit's parser into plain values; summarise a target
``compose``       read Compose files (ruamel: anchors, merge keys) and normalise services
``compose_cli``   the real Compose CLI: effective config per ``-f`` set, run concurrently
``environments``  which ``-f`` combination is which environment (from names, or given)
``grouping``      one canonical service per logical service across environments
``stages``        the Dockerfile variants of a service as the stages of one generic Dockerfile
``settings``      an effective Compose service as spec settings (``compose:`` for the rest)
``factor``        per-environment settings factored into service level + environment blocks
``analyze``       the orchestration: files in -> an ``ImportPlan`` (spec + decisions + findings)
``drift``         detectors for accidental drift between variants and environments
``report``        the migration report (terminal table and Markdown)
``verify``        render the spec and compare every environment semantically with the originals

Only ``analyze``, ``compose_cli`` and ``verify`` do I/O; everything else is pure.
"""
