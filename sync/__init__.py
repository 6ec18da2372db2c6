"""Resume-position sync across devices: local store, offline queue, flush (see docs/sync.md)."""
