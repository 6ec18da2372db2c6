"""Small pure HTTP helpers for the OCAs: byte ranges, content types, safe paths."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from service.strict import is_uint

CONTENT_TYPES = {
    ".mpd": "application/dash+xml",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".m4v": "video/mp4",
    ".ts": "video/mp2t",
    ".vtt": "text/vtt; charset=utf-8",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".json": "application/json",
}


def content_type(path: str) -> str:
    ext = posixpath.splitext(path)[1].lower()
    return CONTENT_TYPES.get(ext, "application/octet-stream")


class RangeNotSatisfiable(ValueError):
    pass


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range a ``Range`` header asks for, None for the whole file.

    Unsupported forms (other units, several ranges, garbage) are ignored as RFC 9110
    allows: the whole file is sent with 200. A syntactically valid range that lies
    outside the file raises ``RangeNotSatisfiable`` (answer 416).
    """
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    first, last = first.strip(), last.strip()
    if first == "":
        if not is_uint(last):
            return None
        n = int(last)
        if n == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return ByteRange(max(0, size - n), size - 1)
    if not is_uint(first) or (last and not is_uint(last)):
        return None
    start = int(first)
    end = int(last) if last else max(start, size - 1)
    if end < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable(header)
    return ByteRange(start, min(end, size - 1))


def safe_relative_path(raw: str) -> str | None:
    """A normalized relative path inside the media folder, or None if it tries to leave it."""
    if not raw or "\x00" in raw or "\\" in raw or raw.startswith("/"):
        return None
    parts = raw.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    return "/".join(parts)
