"""Small helpers shared by the parsers: URL joining, durations, byte ranges, limits."""

from __future__ import annotations

import posixpath
import re
from typing import NoReturn
from urllib.parse import urljoin, urlsplit, urlunsplit

from marquee.errors import ManifestError

# A representation with more segments than this is refused (a hostile or broken
# manifest could otherwise ask for billions: `<S d="1" r="999999999"/>`).
# 100 000 segments of 2 s are 55 hours.
MAX_SEGMENTS = 100_000
# Manifests larger than this are refused before parsing.
MAX_MANIFEST_BYTES = 20 * 1024 * 1024


def fail(message: str) -> NoReturn:
    raise ManifestError(message, user_message="This stream's manifest could not be read.", code="manifest_invalid")


def join(base: str, ref: str) -> str:
    """`urljoin` that also works when `base` is relative or empty.

    Joining relative references keeps the result relative (the URL rule:
    resolved against every level below the root, not against the root).
    """
    ref = ref.strip()
    if not base:
        return ref
    if is_absolute(base) or base.startswith("/") or is_absolute(ref) or ref.startswith("/"):
        return urljoin(base, ref)
    # Both relative: urljoin would drop leading '..' segments, so resolve under a
    # deep stand-in root and express the result relative to it again.
    resolved = urljoin(urljoin(_STAND_IN_ROOT, base), ref)
    return relativize(_STAND_IN_ROOT, resolved)


_STAND_IN_ROOT = "http://marquee.invalid" + "/_" * 64 + "/"


def directory_of(url: str) -> str:
    """The URL of the directory holding `url` (query and fragment dropped)."""
    parts = urlsplit(url)
    path = parts.path
    directory = path[: path.rfind("/") + 1] if "/" in path else "/"
    return urlunsplit((parts.scheme, parts.netloc, directory, "", ""))


def is_absolute(url: str) -> bool:
    return bool(urlsplit(url).scheme)


def relativize(root: str, url: str) -> str:
    """A reference `r` with `urljoin(root, r) == url`, relative when both share scheme and host.

    Used where HLS hands us absolute URIs (content-steering pathways). Anything
    on another host stays absolute.
    """
    r, u = urlsplit(root), urlsplit(url)
    if (r.scheme, r.netloc) != (u.scheme, u.netloc) or not u.path.startswith("/"):
        return url
    root_dir = r.path[: r.path.rfind("/") + 1] or "/"
    target_dir, name = u.path.rsplit("/", 1)
    rel_dir = posixpath.relpath(target_dir + "/", root_dir)
    rel = name if rel_dir == "." else f"{rel_dir}/{name}"
    if not name and rel_dir != ".":
        rel = rel_dir + "/"
    if u.query:
        rel += "?" + u.query
    if urljoin(root, rel) != urlunsplit((u.scheme, u.netloc, u.path, u.query, "")):
        return url
    return rel


_NUM = r"(\d+(?:[.,]\d+)?)"
_ISO_DURATION = re.compile(
    rf"^\s*P(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?(?:T(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?\s*$"
)
_ISO_UNITS = (365 * 86400.0, 30 * 86400.0, 7 * 86400.0, 86400.0, 3600.0, 60.0, 1.0)


def parse_iso_duration(text: str, where: str) -> float:
    """Seconds in an ISO 8601 duration such as `PT1H2M3.5S` (years 365 d, months 30 d)."""
    m = _ISO_DURATION.match(text)
    if not m or all(g is None for g in m.groups()) or text.strip().endswith("T"):
        fail(f"{where}: {text!r} is not an ISO 8601 duration")
    return sum(float(g.replace(",", ".")) * unit for g, unit in zip(m.groups(), _ISO_UNITS) if g is not None)


def parse_dash_range(text: str, where: str) -> tuple[int, int]:
    """A DASH byte range `first-last` (inclusive) as a tuple."""
    m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", text)
    if not m:
        fail(f"{where}: byte range {text!r} is not 'first-last'")
    first, last = int(m.group(1)), int(m.group(2))
    if last < first:
        fail(f"{where}: byte range {text!r} ends before it starts")
    return first, last


def parse_frame_rate(text: str | None, where: str) -> float | None:
    if text is None or not text.strip():
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*(\d+)\s*)?", text)
    if not m or (m.group(2) is not None and int(m.group(2)) == 0):
        fail(f"{where}: frame rate {text!r} is not a number or a fraction")
    rate = float(m.group(1)) / (int(m.group(2)) if m.group(2) else 1)
    return rate
