"""The reference service (catalogue, rows, playback, licenses, sync, telemetry) and OCA edge servers."""
