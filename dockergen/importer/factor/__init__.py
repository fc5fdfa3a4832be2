"""Step 5, factor: each environment's service as spec settings, factored into the spec's layers."""
