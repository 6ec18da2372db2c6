"""H.264 / HEVC NAL unit framings (pure): Annex B start codes <-> length prefixes.

The engine's Matroska stream carries H.264 and HEVC as Matroska wants them (length
prefixed, ``avcC``/``hvcC`` in the track header), with the parameter sets of each
segment's rung repeated in-band on its first keyframe, so a switch to a rung with other
SPS/PPS decodes without error. FFmpeg's ``*_mp4toannexb`` filters put those parameter
sets in (as Annex B); :func:`annexb_to_length_prefixed` turns the result back.
"""

from __future__ import annotations

import re

__all__ = ["annexb_to_length_prefixed", "length_prefixed_to_annexb", "nal_length_size"]

_START = re.compile(b"\x00\x00\x01")


def annexb_to_length_prefixed(data: bytes, size: int = 4) -> bytes:
    """NAL units separated by 3- or 4-byte start codes -> each prefixed by its length."""
    starts = [m.end() for m in _START.finditer(data)]
    out = bytearray()
    for i, begin in enumerate(starts):
        end = starts[i + 1] - 3 if i + 1 < len(starts) else len(data)
        if i + 1 < len(starts) and end > begin and data[end - 1] == 0:
            end -= 1  # the leading zero of the next 4-byte start code
        if end > begin:
            out += (end - begin).to_bytes(size, "big") + data[begin:end]
    return bytes(out)


def length_prefixed_to_annexb(data: bytes, size: int = 4) -> bytes:
    out = bytearray()
    at = 0
    while at + size <= len(data):
        length = int.from_bytes(data[at:at + size], "big")
        out += b"\x00\x00\x00\x01" + data[at + size:at + size + length]
        at += size + length
    return bytes(out)


def nal_length_size(codec: str, extradata: bytes) -> int | None:
    """Bytes of each NAL length prefix the ``avcC`` / ``hvcC`` record declares (None: none)."""
    if codec == "h264" and len(extradata) >= 5 and extradata[0] == 1:
        return (extradata[4] & 3) + 1
    if codec == "hevc" and len(extradata) >= 22 and extradata[0] == 1:
        return (extradata[21] & 3) + 1
    return None
