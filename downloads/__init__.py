"""Offline downloads: queue, crash-safe journal, storage accounting."""
