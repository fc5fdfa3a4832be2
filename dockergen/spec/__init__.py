"""Reading and validating the spec: ``load`` (YAML with positions) and ``model``."""
