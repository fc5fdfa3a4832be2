"""The opt-in warm server (``dockergen server start``): a resident process that has imported
the CLI, pydantic and the spec models, and forks a child to run each command."""
