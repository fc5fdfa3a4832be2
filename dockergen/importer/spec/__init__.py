"""Step 6, spec: the spec document and its text."""
