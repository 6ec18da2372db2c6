"""What ``build.json`` records, and whether the content on disk is what this code would build.

The keys come from the spec and from the source of the modules that shape the media
(``MEDIA_MODULES``) and the artwork (``ARTWORK_MODULES``): redrawing posters never re-encodes
video. Cheap to import (no Pillow, no ffmpeg): the app asks ``is_current`` at every start, and
an update that changes how the content is made rebuilds what it changed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from service.content.spec import BuildSpec

BUILD_FORMAT = 1  # bumped by hand when the layout written by the build changes
BUILD_JSON = "build.json"
MEDIA_MODULES = ("spec.py", "masters.py", "package.py", "ffmpeg.py", "fonts.py")
ARTWORK_MODULES = ("artwork.py", "motifs.py", "fonts.py")


def code_version(modules: tuple[str, ...] | None = None) -> str:
    """A hash of this package's source (or of the named modules): a change invalidates caches."""
    h = hashlib.sha256(str(BUILD_FORMAT).encode())
    here = Path(__file__).resolve().parent
    paths = [here / m for m in modules] if modules is not None else sorted(here.glob("*.py"))
    for path in paths:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def artwork_key(catalog_bytes: bytes, spec: BuildSpec, code: str) -> str:
    return hashlib.sha256(b"|".join([code.encode(), str(spec.artwork_variants).encode(), catalog_bytes])).hexdigest()


def content_keys(spec: BuildSpec, catalog_bytes: bytes) -> tuple[str, str]:
    """(media key, artwork key): what a build of ``spec`` by this code would record."""
    return (spec.media_fingerprint(code_version(MEDIA_MODULES)),
            artwork_key(catalog_bytes, spec, code_version(ARTWORK_MODULES)))


def read_build_json(out: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((out / BUILD_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def complete(out: Path, info: dict[str, Any]) -> bool:
    media = info.get("media") or {}
    return all((out / "media" / mid / "manifest.mpd").is_file() and (out / "media" / mid / "master.m3u8").is_file()
               for mid in media) and (out / "artwork").is_dir()


def is_current(out: Path, catalog_path: Path | None = None) -> bool:
    """``out`` holds a complete build that this code would not change, for the spec it was
    built with (quick or not). Reads a few files; milliseconds."""
    from service.catalog import default_catalog_path
    from service.content.spec import default_spec, quick_spec

    info = read_build_json(out)
    if info is None:
        return False
    try:
        catalog_bytes = (catalog_path or default_catalog_path()).read_bytes()
    except OSError:
        return False
    media_key, art_key = content_keys(quick_spec() if info.get("quick") else default_spec(), catalog_bytes)
    return info.get("media_key") == media_key and info.get("artwork_key") == art_key and complete(out, info)
