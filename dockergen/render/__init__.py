"""Renderers: pure functions from resolved values to file contents."""
