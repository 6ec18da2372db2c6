"""HTTP routes of the reference service, one module per area; each exposes ``routes()``."""
