"""The at-rest file format: round trips, ranges, and every kind of tampering detected."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drm.crypto import HEADER_SIZE, open_all, open_range, seal, sealed_size
from drm.errors import DAMAGED_MESSAGE, DownloadDamaged

KEY = bytes(range(32))


@given(data=st.binary(max_size=5000), chunk=st.integers(1, 700), a=st.integers(0, 5200), n=st.integers(0, 5200))
@settings(max_examples=150, deadline=None)
def test_ranges_match_the_plaintext(data: bytes, chunk: int, a: int, n: int) -> None:
    blob = seal(KEY, "d/x.m4s", data, chunk_size=chunk)
    assert len(blob) == sealed_size(len(data), chunk)
    assert open_all(KEY, "d/x.m4s", blob) == data
    read = lambda off, ln: blob[off:off + ln]  # noqa: E731
    assert open_range(KEY, "d/x.m4s", read, len(blob), a, a + n) == data[a:a + n + 1]


@given(pos=st.integers(0, 10_000), bit=st.integers(0, 7))
@settings(max_examples=200, deadline=None)
def test_any_flipped_bit_is_detected(pos: int, bit: int) -> None:
    blob = bytearray(seal(KEY, "d/seg-1.m4s", os.urandom(3000), chunk_size=1024))
    blob[pos % len(blob)] ^= 1 << bit
    with pytest.raises(DownloadDamaged) as err:
        open_all(KEY, "d/seg-1.m4s", bytes(blob))
    assert err.value.user_message == DAMAGED_MESSAGE and err.value.code == "download_damaged"


def test_swapped_truncated_extended_and_wrong_key_are_detected() -> None:
    data = os.urandom(2500)
    blob = seal(KEY, "d/seg-1.m4s", data, chunk_size=1000)
    for bad in (blob[:-1], blob + b"\0", blob[:HEADER_SIZE + 1016], blob[:10]):
        with pytest.raises(DownloadDamaged):
            open_all(KEY, "d/seg-1.m4s", bad)
    with pytest.raises(DownloadDamaged):  # a file moved to another place (another segment, another title)
        open_all(KEY, "d/seg-2.m4s", blob)
    with pytest.raises(DownloadDamaged):
        open_all(bytes(32), "d/seg-1.m4s", blob)
    # dropping the last chunk and fixing nothing else is caught by the length and the final flag
    other = seal(KEY, "d/seg-1.m4s", data[:2000], chunk_size=1000)
    with pytest.raises(DownloadDamaged):
        open_all(KEY, "d/seg-1.m4s", blob[:len(other)])


def test_every_file_gets_its_own_key_and_no_plaintext_shows() -> None:
    data = b"\0\0\0\x18ftypiso6" + b"moof" * 1000
    a, b = seal(KEY, "d/x", data), seal(KEY, "d/x", data)
    assert a != b and a[HEADER_SIZE:HEADER_SIZE + 64] != b[HEADER_SIZE:HEADER_SIZE + 64]  # fresh salt each time
    assert b"ftyp" not in a and b"moof" not in a
