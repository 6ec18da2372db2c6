"""Static data shipped with Marquee (catalogue metadata, ABR traces, styles)."""

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent
