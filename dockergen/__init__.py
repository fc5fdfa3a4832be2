"""dockergen: one spec in, consolidated Dockerfiles and Compose overlays out."""

__version__ = "0.1.0"
