"""Common Media Client Data (CTA-5004) for segment requests. Pure.

``CmcdData`` holds the values; ``encode`` gives the canonical payload (keys in
alphabetical order, strings quoted, tokens bare, ``true`` as the bare key, false
and empty values left out, numbers as integers), ``as_headers`` splits it into the
four ``CMCD-*`` headers and ``as_query`` into the ``CMCD=`` query parameter.

Keys used: ``bl`` buffer length (ms, rounded to 100), ``br`` encoded bitrate (kbps),
``d`` object duration (ms), ``mtp`` measured throughput (kbps, rounded to 100),
``ot`` object type (``m`` manifest, ``i`` init, ``v`` video, ``a`` audio, ``c``
caption, ``o`` other), ``sf`` streaming format (``d`` DASH, ``h`` HLS), ``sid``
session id, ``st`` stream type (``v`` VOD), ``su`` startup (buffer empty).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping
from urllib.parse import quote

# CTA-5004 header shards
HEADER_KEYS: Mapping[str, tuple[str, ...]] = {
    "CMCD-Object": ("br", "d", "ot", "tb"),
    "CMCD-Request": ("bl", "dl", "mtp", "nor", "nrr", "su"),
    "CMCD-Session": ("cid", "pr", "sf", "sid", "st", "v"),
    "CMCD-Status": ("bs", "rtp"),
}
TOKEN_KEYS = frozenset({"ot", "sf", "st"})
OBJECT_TYPES = frozenset({"m", "a", "v", "av", "i", "c", "tt", "k", "o"})


@dataclass(frozen=True)
class CmcdData:
    session_id: str
    object_type: str = "o"
    bitrate_kbps: float | None = None
    buffer_ms: float | None = None
    duration_ms: float | None = None
    throughput_kbps: float | None = None
    streaming_format: str = "d"
    stream_type: str = "v"
    startup: bool = False

    def pairs(self) -> dict[str, str | int | bool]:
        if self.object_type not in OBJECT_TYPES:
            raise ValueError(f"unknown CMCD object type {self.object_type!r}")
        out: dict[str, str | int | bool] = {"sid": self.session_id, "ot": self.object_type,
                                            "sf": self.streaming_format, "st": self.stream_type}
        if self.bitrate_kbps is not None and self.bitrate_kbps > 0:
            out["br"] = int(round(self.bitrate_kbps))
        if self.buffer_ms is not None:
            out["bl"] = int(round(max(0.0, self.buffer_ms) / 100.0)) * 100
        if self.duration_ms is not None and self.duration_ms > 0:
            out["d"] = int(round(self.duration_ms))
        if self.throughput_kbps is not None and self.throughput_kbps > 0:
            out["mtp"] = int(round(self.throughput_kbps / 100.0)) * 100
        if self.startup:
            out["su"] = True
        return out


def _value(key: str, value: str | int | bool) -> str:
    if value is True:
        return key
    if isinstance(value, int):
        return f"{key}={value}"
    if key in TOKEN_KEYS:
        return f"{key}={value}"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'{key}="{escaped}"'


def encode(pairs: Mapping[str, str | int | bool]) -> str:
    return ",".join(_value(k, pairs[k]) for k in sorted(pairs) if pairs[k] is not False and pairs[k] != "")


def as_headers(data: CmcdData) -> dict[str, str]:
    pairs = data.pairs()
    out = {}
    for header, keys in HEADER_KEYS.items():
        shard = {k: v for k, v in pairs.items() if k in keys}
        if shard:
            out[header] = encode(shard)
    return out


def as_query(data: CmcdData) -> str:
    """``CMCD=<percent-encoded payload>`` to append to a URL."""
    return "CMCD=" + quote(encode(data.pairs()), safe="")


def decode(payload: str) -> dict[str, str | int | bool]:
    """Parse a CMCD payload (for tests and for the service's logs)."""
    out: dict[str, str | int | bool] = {}
    for part in filter(None, _split(payload)):
        key, sep, raw = part.partition("=")
        if not sep:
            out[key] = True
        elif raw.startswith('"'):
            out[key] = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        else:
            try:
                out[key] = int(raw)
            except ValueError:
                out[key] = raw
    return out


def _split(payload: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in payload:
        if ch == '"' and (not cur or cur[-1] != "\\"):
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def object_type(label: str, url: str) -> str:
    """The CMCD object type of a fetch from its label/URL (``FetchTarget.label``)."""
    text = f"{label} {url}".lower()
    if ".mpd" in text or ".m3u8" in text or "manifest" in text or "playlist" in text:
        return "m"
    if "init" in text:
        return "i"
    if ".vtt" in text or "subtitle" in text or "text" in text:
        return "c"
    if "audio" in text:
        return "a"
    if "video" in text:
        return "v"
    return "o"
