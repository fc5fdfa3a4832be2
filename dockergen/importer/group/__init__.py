"""Step 4, group: one canonical service per logical service, one Dockerfile per image (its
variants as targets)."""
