"""Step 3, environments: which chain of Compose files is which environment, and why."""
