"""Step 7, verify: the rendered spec against the original files, environment by environment."""
