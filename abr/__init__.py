"""Adaptive bitrate: controllers, bandwidth estimation, trace-driven simulator (pure, no I/O)."""
