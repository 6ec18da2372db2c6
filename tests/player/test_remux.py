from __future__ import annotations

import io
import time
from collections import defaultdict

import av
import av.logging
import pytest

from marquee.errors import MediaError, Severity
from player.remux import TS_OFFSET_S, SegmentData, SegmentError, TsRemuxer
from player.segment_input import _adts_fixed

from .conftest import FPS, RUNGS, SEG_S, _run


# ------------------------------------------------------------------ helpers


def ts_packets(data: bytes) -> list[tuple[int, int, bool, bool]]:
    """(pid, continuity counter, has payload, payload_unit_start) per 188-byte packet."""
    assert len(data) % 188 == 0, "TS output is not whole packets"
    out = []
    for i in range(0, len(data), 188):
        p = data[i : i + 188]
        assert p[0] == 0x47, f"lost sync at byte {i}"
        pid = ((p[1] & 0x1F) << 8) | p[2]
        afc = (p[3] >> 4) & 3
        out.append((pid, p[3] & 0x0F, bool(afc & 1), bool(p[1] & 0x40)))
    return out


def assert_continuous(data: bytes) -> set[int]:
    """Continuity counters never restart: one muxer for the whole stream."""
    last: dict[int, int] = {}
    for pid, cc, payload, _ in ts_packets(data):
        if not payload or pid == 0x1FFF:
            continue
        if pid in last:
            assert cc == (last[pid] + 1) % 16, f"continuity break on PID {pid:#x}"
        last[pid] = cc
    return set(last)


def decode_video(data: bytes) -> tuple[list[tuple[float, int, int]], list[str]]:
    """[(time, w, h)] of every decoded frame, and error/warning log lines."""
    frames = []
    with av.logging.Capture() as logs:
        with av.open(io.BytesIO(data), format="mpegts") as c:
            for f in c.decode(video=0):
                frames.append((float(f.time), f.width, f.height))
    bad = [f"{m[1]}: {m[2]}" for m in logs if m[0] <= av.logging.WARNING]
    return frames, bad


def remux_all(rm: TsRemuxer, content, rungs: list[int], audio: bool = True) -> bytes:
    out = bytearray()
    for n, rung in enumerate(rungs, start=1):
        out += rm.remux(content.video(rung, n), content.audio(n) if audio else None).data
    return bytes(out + rm.finish())


# -------------------------------------------------------------------- tests


def test_alternating_rungs_decode_as_one_stream(alternating_ts) -> None:
    data, results = alternating_ts
    frames, bad = decode_video(data)
    assert bad == []
    assert len(frames) == int(SEG_S * FPS) * len(results)
    times = [t for t, _, _ in frames]
    assert all(b > a for a, b in zip(times, times[1:])), "PTS not strictly increasing"
    # every frame has the size of the rung of the segment it belongs to
    for t, w, h in frames:
        seg = int((t - TS_OFFSET_S + 1e-6) // SEG_S)
        assert (w, h) == RUNGS[seg % 2], f"frame at {t:.3f}s is {w}x{h}"
    # the switch is exactly at the boundary: last frame before it small, first after big
    i = next(i for i, (t, _, _) in enumerate(frames) if t >= TS_OFFSET_S + SEG_S - 1e-6)
    assert frames[i][0] == pytest.approx(TS_OFFSET_S + SEG_S, abs=1e-3)
    assert frames[i - 1][1:] == RUNGS[0] and frames[i][1:] == RUNGS[1]
    assert [r.video_size for r in results] == [RUNGS[0], RUNGS[1], RUNGS[0], RUNGS[1]]


def test_timestamps_are_source_plus_fixed_offset(alternating_ts) -> None:
    data, results = alternating_ts
    frames, _ = decode_video(data)
    assert frames[0][0] == pytest.approx(TS_OFFSET_S, abs=1e-3)
    for n, r in enumerate(results):
        assert r.start_s == pytest.approx(n * SEG_S, abs=1e-3)
        assert r.end_s == pytest.approx((n + 1) * SEG_S, abs=1e-3)
        assert r.duration_s == pytest.approx(SEG_S, abs=1e-3)


def test_one_muxer_constant_pids_continuity(alternating_ts) -> None:
    data, _ = alternating_ts
    pids = assert_continuous(data)
    assert {0x100, 0x101} <= pids  # video and audio elementary streams
    head = [pid for pid, _, _, _ in ts_packets(data)[:3]]
    assert 0 in head and 0x1000 in head  # the stream opens with SDT, PAT, PMT


def test_audio_is_adts_aac_with_all_samples(alternating_ts, dash_content) -> None:
    data, _ = alternating_ts
    with av.open(io.BytesIO(data), format="mpegts") as c:
        a = c.streams.audio[0]
        assert a.codec_context.name == "aac"
        samples = sum(f.samples for f in c.decode(a))
    native = dash_content.init("2") + b"".join(
        dash_content.media("2", n) for n in range(1, dash_content.segments + 1))
    with av.open(io.BytesIO(native)) as src:  # the same audio segments read as one fMP4
        expected = sum(f.samples for f in src.decode(src.streams.audio[0]))
    # TS has no edit list: the encoder-priming frame (pts < 0) is kept, the rest matches
    assert expected <= samples <= expected + 1024
    # The audio PES payloads start with an ADTS sync word.
    pkt = next(i for i, (pid, _, _, pusi) in enumerate(ts_packets(data)) if pid == 0x101 and pusi)
    raw = data[pkt * 188 : pkt * 188 + 188]
    body = raw[4 + (1 + raw[4] if (raw[3] >> 4) & 2 else 0):]
    pes_header_len = 9 + body[8]
    assert body[pes_header_len] == 0xFF and body[pes_header_len + 1] & 0xF0 == 0xF0


def test_video_only_and_audio_only(dash_content) -> None:
    v = remux_all(TsRemuxer(), dash_content, [1, 0], audio=False)
    frames, bad = decode_video(v)
    assert not bad and len(frames) == 2 * int(SEG_S * FPS)
    rm = TsRemuxer()
    a = rm.remux(None, dash_content.audio(1)).data + rm.finish()
    with av.open(io.BytesIO(a), format="mpegts") as c:
        assert [s.type for s in c.streams] == ["audio"]


def test_hls_ts_segments_pass_through(hls_ts_segments) -> None:
    rm = TsRemuxer()
    out = bytearray()
    for seg in hls_ts_segments:
        out += rm.remux(SegmentData(seg)).data
    out += rm.finish()
    frames, bad = decode_video(bytes(out))
    assert not bad
    assert len(frames) == int(SEG_S * FPS) * len(hls_ts_segments)
    times = [t for t, _, _ in frames]
    assert all(b > a for a, b in zip(times, times[1:]))
    assert_continuous(bytes(out))


@pytest.mark.parametrize("damage", ["truncate_mid", "truncate_box", "garbage_head", "empty", "bad_init"])
def test_corrupt_segment_raises_and_stream_goes_on(dash_content, damage: str) -> None:
    rm = TsRemuxer()
    out = bytearray(rm.remux(dash_content.video(0, 1), dash_content.audio(1)).data)
    good = dash_content.video(1, 2)
    bad = {
        "truncate_mid": SegmentData(good.media[: len(good.media) * 2 // 3], good.init),
        "truncate_box": SegmentData(good.media[: good.media.find(b"mdat") - 4], good.init),
        "garbage_head": SegmentData(b"\x13\x37" * 40 + good.media[80:], good.init),
        "empty": SegmentData(b"", good.init),
        "bad_init": SegmentData(good.media, good.init[: len(good.init) // 2]),
    }[damage]
    with pytest.raises(SegmentError) as err:
        rm.remux(bad, dash_content.audio(2))
    assert err.value.severity is Severity.RECOVERABLE
    assert isinstance(err.value, MediaError)
    # the engine refetches segment 2 elsewhere and carries on
    for n in (2, 3, 4):
        out += rm.remux(dash_content.video(1, n), dash_content.audio(n)).data
    out += rm.finish()
    frames, bad_logs = decode_video(bytes(out))
    assert bad_logs == []
    assert len(frames) == 4 * int(SEG_S * FPS)
    assert_continuous(bytes(out))


def test_unsupported_codecs_give_clear_fatal_error(vp9_opus_content) -> None:
    with pytest.raises(MediaError) as err:
        TsRemuxer().remux(vp9_opus_content.video(0, 1))
    assert err.value.code == "unsupported_codec" and "vp9" in err.value.message
    assert err.value.severity is Severity.FATAL
    with pytest.raises(MediaError) as err:
        TsRemuxer().remux(None, vp9_opus_content.audio(1, rep="1"))
    assert err.value.code == "unsupported_codec" and "opus" in err.value.message


def test_restart_begins_a_new_stream_at_the_segment(dash_content) -> None:
    rm = TsRemuxer()
    rm.remux(dash_content.video(0, 1), dash_content.audio(1))
    rm.restart(at_time=5.0)
    assert rm.start_s == 5.0
    out = bytearray()
    for n in (3, 4):  # segment 3 holds t=5.0
        out += rm.remux(dash_content.video(1, n), dash_content.audio(n)).data
    out += rm.finish()
    assert 0 in [pid for pid, _, _, _ in ts_packets(bytes(out))[:3]]  # a fresh stream: PAT first
    assert_continuous(bytes(out))
    frames, bad = decode_video(bytes(out))
    assert not bad
    assert frames[0][0] == pytest.approx(TS_OFFSET_S + 2 * SEG_S, abs=1e-3)
    assert len(frames) == 2 * int(SEG_S * FPS)


def test_overlapping_segment_is_trimmed_not_fatal(dash_content) -> None:
    rm = TsRemuxer()
    rm.remux(dash_content.video(0, 1), dash_content.audio(1))
    again = rm.remux(dash_content.video(1, 1), dash_content.audio(1))  # the same time twice
    assert again.dropped_overlap > 0
    rm.remux(dash_content.video(1, 2), dash_content.audio(2))


@pytest.mark.parametrize(
    ("asc", "expected"),
    [
        (bytes([0x11, 0x90]), bytes([0xFF, 0xF1, 0x4C, 0x80])),  # AAC-LC 48 kHz stereo
        (bytes([0x12, 0x08]), bytes([0xFF, 0xF1, 0x50, 0x40])),  # AAC-LC 44.1 kHz mono
        (bytes([0x2B, 0x92, 0x08, 0x00]), bytes([0xFF, 0xF1, 0x50, 0x80])),  # HE-AAC explicit: core 44.1k
        (b"", None),
    ],
)
def test_adts_header_from_audio_specific_config(asc: bytes, expected: bytes | None) -> None:
    assert _adts_fixed(asc, "t") == expected


@pytest.mark.slow
def test_remux_cpu_cost_at_1080p(media_root, capsys) -> None:
    """Process CPU per second of 1080p content, as % of one core in real time."""
    root = media_root / "hd"
    root.mkdir()
    dur = 10
    _run(["-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={dur}",
          "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={dur}",
          "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "6M", "-maxrate", "6M", "-bufsize", "6M",
          "-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-pix_fmt", "yuv420p",
          "-c:a", "aac", "-b:a", "128k", "-f", "dash", "-seg_duration", "2", "-use_template", "1",
          "-use_timeline", "0", "-init_seg_name", "init-$RepresentationID$.m4s",
          "-media_seg_name", "seg-$RepresentationID$-$Number$.m4s",
          "-adaptation_sets", "id=0,streams=v id=1,streams=a", "manifest.mpd"], root)
    vinit, ainit = (root / "init-0.m4s").read_bytes(), (root / "init-1.m4s").read_bytes()
    segs = [((root / f"seg-0-{n}.m4s").read_bytes(), (root / f"seg-1-{n}.m4s").read_bytes())
            for n in range(1, dur // 2 + 1)]
    rm = TsRemuxer()
    rounds, content_s, nbytes = 3, 0.0, 0
    t0 = time.process_time()
    for _ in range(rounds):
        rm.restart()
        for v, a in segs:
            r = rm.remux(SegmentData(v, vinit), SegmentData(a, ainit))
            content_s += r.duration_s
            nbytes += len(r.data)
        rm.finish()
    cpu = time.process_time() - t0
    pct = 100 * cpu / content_s
    with capsys.disabled():
        print(f"\nremux 1080p: {cpu * 1000:.0f} ms CPU for {content_s:.0f} s of content "
              f"({nbytes / content_s * 8 / 1e6:.1f} Mbit/s) = {pct:.2f}% of one core")
    assert pct < 10.0


# ------------------------------------------------------------------ Matroska


def test_matroska_stream_switches_rungs_without_a_decoder_error(dash_content) -> None:
    """The engine's stream: one Matroska muxer for the life of the stream; a rung switch
    carries the new rung's SPS/PPS in-band, so 720p -> 144p -> 720p decodes clean."""
    from player.remux import StreamRemuxer

    rm = StreamRemuxer()
    data = bytearray()
    for n, rung in enumerate([1, 0, 1], start=1):
        data += rm.remux(dash_content.video(rung, n), dash_content.audio(n)).data
    data += rm.finish()
    assert bytes(data[:4]) == b"\x1a\x45\xdf\xa3"  # EBML
    frames = []
    with av.logging.Capture() as logs:
        with av.open(io.BytesIO(bytes(data)), format="matroska") as c:
            for f in c.decode(video=0):
                frames.append((round(float(f.time), 3), f.width, f.height))
    assert [m for m in logs if m[0] <= av.logging.WARNING] == []
    sizes = [(w, h) for _, w, h in frames]
    assert sizes[0] == RUNGS[1] and RUNGS[0] in sizes and sizes[-1] == RUNGS[1]
    assert frames[0][0] == pytest.approx(TS_OFFSET_S, abs=1e-3)  # source time + the fixed offset


def test_annexb_and_length_prefixed_framings_round_trip() -> None:
    from player.nal import annexb_to_length_prefixed, length_prefixed_to_annexb

    nals = [b"\x67\x42\x00\x1e", b"\x68\xce", b"\x65" + b"\x11" * 300]
    annexb = b"\x00\x00\x00\x01" + nals[0] + b"\x00\x00\x01" + nals[1] + b"\x00\x00\x00\x01" + nals[2]
    prefixed = annexb_to_length_prefixed(annexb)
    assert prefixed == b"".join(len(n).to_bytes(4, "big") + n for n in nals)
    assert annexb_to_length_prefixed(length_prefixed_to_annexb(prefixed)) == prefixed
