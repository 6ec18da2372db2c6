"""Which protection system encrypts a stream, named as a person knows it (pure).

DASH names systems in ``ContentProtection@schemeIdUri`` (a DRM system's UUID, or
``urn:mpeg:dash:mp4protection:2011`` for the common encryption scheme itself); HLS in
``EXT-X-KEY`` ``METHOD`` and ``KEYFORMAT``. The engine cannot decrypt yet, so an
encrypted stream is refused at once with the system named, instead of playing
garbage or failing as "damaged on every server".
"""

from __future__ import annotations

from typing import Iterable

__all__ = ["dash_system", "hls_system", "refusal"]

_UUIDS = {
    "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed": "Widevine",
    "9a04f079-9840-4286-ab92-e65be0885f95": "PlayReady",
    "e2719d58-a985-b3c9-781a-b030af78d30e": "ClearKey",
    "1077efec-c0b2-4d02-ace3-3c1e52e2fb4b": "ClearKey",
    "94ce86fb-07ff-4f43-adb8-93d2fa968ca2": "FairPlay",
    "f239e769-efa3-4850-9c16-a903c6932efb": "Adobe Primetime",
}
_DRM = ("Widevine", "PlayReady", "FairPlay", "Adobe Primetime")


def dash_system(scheme_id_uri: str) -> str:
    uri = scheme_id_uri.strip().lower()
    if uri.startswith("urn:uuid:"):
        return _UUIDS.get(uri[len("urn:uuid:"):], "an unknown DRM system")
    if uri == "urn:mpeg:dash:mp4protection:2011":
        return "CENC"
    return "an unknown protection system"


def hls_system(method: str, keyformat: str | None) -> str:
    fmt = (keyformat or "identity").strip().lower()
    if fmt == "com.apple.streamingkeydelivery":
        return "FairPlay"
    if fmt.startswith("urn:uuid:"):
        return dash_system(fmt)
    if fmt == "com.microsoft.playready":
        return "PlayReady"
    if method.upper() == "AES-128":
        return "AES-128"
    if method.upper().startswith("SAMPLE-AES"):
        return "SAMPLE-AES"
    return f"{method} encryption"


def refusal(systems: Iterable[str]) -> str:
    """The plain-words message for a stream encrypted with ``systems``."""
    named = list(dict.fromkeys(s for s in systems if s != "CENC")) or ["common encryption (CENC)"]
    drm = [s for s in named if s in _DRM]
    if drm:
        return (f"This stream is protected with {' and '.join(drm)}, a DRM system Marquee does not support, "
                "so it cannot be played.")
    return f"This stream is encrypted ({', '.join(named)}); Marquee cannot decrypt it yet."
