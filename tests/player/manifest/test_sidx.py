"""The sidx parser against a real fragmented MP4 built with ffmpeg, and hand-made edge cases."""

from __future__ import annotations

import pathlib
import struct
import subprocess

import imageio_ffmpeg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marquee.errors import ManifestError
from player.manifest import parse_dash, parse_sidx, with_sidx_segments
from player.manifest.sidx import parse_sidx_box


def top_level_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, first byte, last byte) of each top-level box (32-bit sizes only, as ffmpeg writes them)."""
    out, pos = [], 0
    while pos < len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        out.append((kind, pos, pos + size - 1))
        pos += size
    return out


@pytest.fixture(scope="module")
def fragmented_mp4(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """6 s of testsrc, one fragment per second, with a global sidx after the moov (on-demand layout)."""
    out = tmp_path_factory.mktemp("sidx") / "video.mp4"
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y",
        "-f", "lavfi", "-i", "testsrc=duration=6:size=160x120:rate=24",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "24", "-keyint_min", "24", "-sc_threshold", "0",
        "-movflags", "+frag_keyframe+empty_moov+default_base_moof+global_sidx",
        str(out),
    ]
    subprocess.run(cmd, check=True, timeout=60)
    return out


def test_parse_sidx_matches_the_fragments_on_disk(fragmented_mp4: pathlib.Path) -> None:
    data = fragmented_mp4.read_bytes()
    boxes = top_level_boxes(data)
    sidx = next(b for b in boxes if b[0] == b"sidx")
    moofs = [b for b in boxes if b[0] == b"moof"]
    mdats = [b for b in boxes if b[0] == b"mdat"]
    expected = [(moof[1], mdat[2]) for moof, mdat in zip(moofs, mdats)]
    assert len(expected) == 6

    entries = parse_sidx(data[sidx[1] : sidx[2] + 1], sidx[1])
    assert [rng for rng, _ in entries] == expected
    assert [dur for _, dur in entries] == pytest.approx([1.0] * 6, abs=0.05)
    assert sum(dur for _, dur in entries) == pytest.approx(6.0, abs=0.01)

    # The index range may also start earlier (here: at byte 0, with ftyp and moov before the sidx).
    assert parse_sidx(data[: sidx[2] + 1], 0) == entries


def test_segmentbase_representation_gets_its_segments_from_the_sidx(fragmented_mp4: pathlib.Path) -> None:
    data = fragmented_mp4.read_bytes()
    boxes = top_level_boxes(data)
    sidx = next(b for b in boxes if b[0] == b"sidx")
    mpd = f"""<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT6S">
      <Period><AdaptationSet contentType="video" mimeType="video/mp4">
        <Representation id="r" bandwidth="150000" width="160" height="120"><BaseURL>{fragmented_mp4.name}</BaseURL>
          <SegmentBase indexRange="{sidx[1]}-{sidx[2]}"><Initialization range="0-{sidx[1] - 1}"/></SegmentBase>
        </Representation></AdaptationSet></Period></MPD>"""
    p = parse_dash(mpd.encode(), "http://oca.example/c/t/m1/manifest.mpd")
    rep = p.representations()[0]
    assert rep.needs_index and rep.index_range == (sidx[1], sidx[2])

    first, last = rep.index_range
    filled = with_sidx_segments(rep, data[first : last + 1])
    assert not filled.needs_index
    segs = filled.segments
    assert [s.number for s in segs] == [1, 2, 3, 4, 5, 6]
    assert all(s.url == fragmented_mp4.name for s in segs)
    assert segs[0].byte_range is not None and segs[0].byte_range[0] == sidx[2] + 1
    assert segs[-1].byte_range is not None and segs[-1].byte_range[1] <= len(data) - 1
    assert sum(s.size_bytes or 0 for s in segs) == segs[-1].byte_range[1] - segs[0].byte_range[0] + 1
    assert filled.segment_index_at(3.5) == 3
    for s in segs:  # every range is one fragment: it starts with a moof box
        assert s.byte_range is not None
        assert data[s.byte_range[0] + 4 : s.byte_range[0] + 8] == b"moof"
    assert p.replace_representation(rep, filled).representations()[0] is filled


def _sidx_v1(refs: list[tuple[int, int]], *, timescale: int = 1000, ept: int = 2**33, first_offset: int = 10) -> bytes:
    body = struct.pack(">B3xIIQQHH", 1, 1, timescale, ept, first_offset, 0, len(refs))
    body += b"".join(struct.pack(">III", size, dur, 0x90000000) for size, dur in refs)
    return struct.pack(">I4s", 8 + len(body), b"sidx") + body


def test_version_1_box_with_64_bit_times() -> None:
    box = _sidx_v1([(100, 2000), (50, 1500)])
    parsed = parse_sidx_box(box, 1000)
    anchor = 1000 + len(box) + 10
    assert parsed.references == (((anchor, anchor + 99), 2000), ((anchor + 100, anchor + 149), 1500))
    assert parsed.earliest_presentation_time == 2**33
    assert parse_sidx(box, 1000) == [((anchor, anchor + 99), 2.0), ((anchor + 100, anchor + 149), 1.5)]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "no sidx box"),
        (struct.pack(">I4s", 16, b"free") + b"\0" * 8, "no sidx box"),
        (_sidx_v1([(100, 1)])[:-6], "only"),
        (_sidx_v1([(100, 1)], timescale=0), "timescale is 0"),
        (_sidx_v1([(0x80000010, 1)]), "hierarchical"),
        (_sidx_v1([(0, 1)]), "size 0"),
        (struct.pack(">I4s", 4, b"sidx"), "impossible size"),
        (struct.pack(">I4sB3x", 12, b"sidx", 7), "unknown version 7"),
    ],
)
def test_malformed_sidx(data: bytes, fragment: str) -> None:
    with pytest.raises(ManifestError, match=fragment):
        parse_sidx(data, 0)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=2**40))
def test_fuzz_sidx_bytes(data: bytes, offset: int) -> None:
    try:
        entries = parse_sidx(b"\x00\x00\x00\x00sidx" + data, offset)
    except ManifestError:
        return
    for (first, last), dur in entries:
        assert offset <= first <= last and dur >= 0
