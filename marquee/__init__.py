"""Marquee: the application shell (CLI, state locations, shared error and clock types)."""

__version__ = "0.1.0"
