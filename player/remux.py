"""Fetched segments in, one long-lived MPEG-TS byte stream out (no transcoding).

libmpv (0.35 / FFmpeg 5.1) does not accept a new fMP4 init segment in the middle of
one byte stream, so every segment the engine fetches is remuxed with PyAV into a
single MPEG-TS stream that lives as long as the feed:

* one output muxer for the life of the stream (constant PIDs, PAT/PMT and
  continuity counters never restart), written into an in-memory sink that is
  drained after each segment;
* a fresh ``h264_mp4toannexb`` (or ``hevc_mp4toannexb``) filter per segment, so a
  new rung's SPS/PPS travel in-band on its first keyframe and a 144p <-> 1080p
  switch is seamless;
* AAC framed as ADTS per segment from that segment's AudioSpecificConfig;
* source timestamps preserved with one fixed offset (``TS_OFFSET_S``), so TS time
  = source time + offset, never renormalised (``avoid_negative_ts`` disabled).

A segment is fully demuxed and checked before a single packet reaches the muxer,
so a corrupt or truncated segment raises :class:`SegmentError` (recoverable: fetch
it again from another OCA) and leaves the long-lived stream untouched.
"""

from __future__ import annotations

import io
import logging
import struct
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import av.bitstream

from marquee.errors import MediaError, Severity

log = logging.getLogger("marquee.player.remux")

TS_OFFSET_S = 10.0
"""TS time = source time + this. Keeps B-frame DTS and AAC priming (negative in the
source) positive; the mpv adapter subtracts it again to report content time."""

_TS_TB = Fraction(1, 90_000)
_ANNEXB_FILTERS = {"h264": "h264_mp4toannexb", "hevc": "hevc_mp4toannexb"}
_VIDEO_AS_IS = {"mpeg2video"}
_AUDIO_AS_IS = {"ac3", "eac3", "mp3", "mp2"}


class SegmentError(MediaError):
    """This segment's bytes cannot be remuxed (corrupt, truncated, empty).

    Recoverable: the engine fetches the same segment from another OCA; the stream
    written so far is intact.
    """

    severity = Severity.RECOVERABLE


@dataclass(frozen=True)
class SegmentData:
    """One fetched segment of one adaptation set.

    ``init`` is the fMP4 initialization segment (empty for self-contained segments,
    e.g. HLS MPEG-TS); ``media`` the media segment bytes.
    """

    media: bytes
    init: bytes = b""


@dataclass(frozen=True)
class RemuxResult:
    data: bytes  # TS bytes to append to the feed (may hold the tail of the previous segment)
    start_s: float  # content time of the first presented video (or audio) sample
    end_s: float  # content time where this segment ends (start of the next one)
    video_size: tuple[int, int]  # (0, 0) when there is no video
    video_codec: str
    audio_codec: str
    packets: int
    dropped_overlap: int  # packets dropped because they overlap what was already written

    @property
    def duration_s(self) -> float:
        return max(0.0, self.end_s - self.start_s)


@dataclass
class _Track:
    kind: str  # "video" | "audio"
    codec: str
    packets: list[av.Packet]
    width: int = 0
    height: int = 0
    sample_rate: int = 0


class TsRemuxer:
    """Turns segments into one continuous MPEG-TS stream.

    Not thread-safe: call it from one task (the engine runs it in a worker thread
    so the event loop stays free; its cost is well under 1% of a core at 1080p).
    """

    def __init__(self, *, offset_s: float = TS_OFFSET_S) -> None:
        self._offset_s = offset_s
        self._offset_ts = int(round(offset_s * 90_000))
        self._start_s = 0.0
        self._sink: io.BytesIO | None = None
        self._out: Any = None
        self._out_streams: dict[str, Any] = {}
        self._last_dts: dict[str, int] = {}
        self._broken: MediaError | None = None
        self.segments = 0

    # ------------------------------------------------------------------ public

    @property
    def offset_s(self) -> float:
        return self._offset_s

    @property
    def start_s(self) -> float:
        """Content time the current stream was (re)started at."""
        return self._start_s

    def restart(self, at_time: float = 0.0) -> None:
        """Begin a new TS stream (after a seek or a resume): the engine re-opens the
        feed and sends segments from the one that holds ``at_time``. Bytes the old
        muxer still held are discarded with it."""
        self._close_output()
        self._start_s = max(0.0, float(at_time))
        self._last_dts.clear()
        self._broken = None
        self.segments = 0

    def remux(self, video: SegmentData | None, audio: SegmentData | None = None) -> RemuxResult:
        """Remux one segment (video, plus the audio segment of the same time when audio
        is a separate adaptation set) and return the TS bytes that continue the stream.

        Raises :class:`SegmentError` (recoverable) for bytes that do not parse and
        :class:`MediaError` (fatal) for a codec MPEG-TS cannot carry.
        """
        if self._broken is not None:
            raise self._broken
        if video is None and audio is None:
            raise ValueError("remux needs a video or an audio segment")
        tracks: list[_Track] = []
        if video is not None:
            tracks.extend(_demux(video, "video segment"))
        if audio is not None:
            tracks.extend(t for t in _demux(audio, "audio segment") if t.kind == "audio")
        by_kind: dict[str, _Track] = {}
        for t in tracks:
            by_kind.setdefault(t.kind, t)  # first video, first audio; others are not ours
        if not by_kind:
            raise SegmentError("segment has no audio or video packets", code="empty_segment",
                               user_message="A piece of the video was empty.")
        first = by_kind.get("video") or by_kind["audio"]
        start, end = _time_span(first)  # before _plan rewrites the timestamps
        self._ensure_output(by_kind)
        plan, dropped = self._plan(by_kind)
        try:
            for pkt in plan:
                self._out.mux_one(pkt)
        except av.FFmpegError as exc:  # the muxer state is unknown now: require a restart
            self._broken = MediaError(f"TS muxer failed: {exc}", code="mux_failed")
            raise self._broken from exc
        self.segments += 1
        v = by_kind.get("video")
        return RemuxResult(
            data=self._drain(),
            start_s=start,
            end_s=end,
            video_size=(v.width, v.height) if v else (0, 0),
            video_codec=v.codec if v else "",
            audio_codec=by_kind["audio"].codec if "audio" in by_kind else "",
            packets=len(plan),
            dropped_overlap=dropped,
        )

    def finish(self) -> bytes:
        """End the stream: flush what the muxer holds (interleaving queue, audio PES)."""
        if self._out is None:
            return b""
        self._close_output(keep=True)
        assert self._sink is not None
        data = self._sink.getvalue()
        self._sink = None
        return data

    # ---------------------------------------------------------------- internal

    def _ensure_output(self, by_kind: dict[str, _Track]) -> None:
        if self._out is not None:
            for kind, t in by_kind.items():
                if kind not in self._out_streams:
                    log.warning("dropping %s: the stream was started without it", kind)
            return
        self._sink = io.BytesIO()
        out = av.open(self._sink, "w", format="mpegts",
                      options={"avoid_negative_ts": "disabled", "max_delay": "0"})
        streams: dict[str, Any] = {}
        v = by_kind.get("video")
        if v is not None:
            streams["video"] = out.add_mux_stream(v.codec, width=v.width, height=v.height)
        a = by_kind.get("audio")
        if a is not None:
            streams["audio"] = out.add_mux_stream(a.codec, rate=a.sample_rate or None)
        self._out, self._out_streams = out, streams

    def _plan(self, by_kind: dict[str, _Track]) -> tuple[list[av.Packet], int]:
        """Offset, retarget and interleave (by DTS) the packets to mux; drop overlap."""
        timed: list[tuple[int, int, av.Packet]] = []
        dropped = 0
        for order, (kind, track) in enumerate(by_kind.items()):
            stream = self._out_streams.get(kind)
            if stream is None:
                continue
            last = self._last_dts.get(kind)
            for pkt in track.packets:
                tb = pkt.time_base
                pts90 = None if pkt.pts is None else _to90k(pkt.pts, tb) + self._offset_ts
                dts90 = pts90 if pkt.dts is None else _to90k(pkt.dts, tb) + self._offset_ts
                if dts90 is None or (last is not None and dts90 <= last):
                    dropped += 1
                    continue
                last = dts90
                pkt.time_base = _TS_TB
                pkt.pts, pkt.dts = pts90, dts90
                if pkt.duration:
                    pkt.duration = _to90k(pkt.duration, tb)
                pkt.stream = stream
                timed.append((dts90, order, pkt))
            if last is not None:
                self._last_dts[kind] = last
        if dropped:
            log.warning("dropped %d packets overlapping what was already written", dropped)
        timed.sort(key=lambda x: (x[0], x[1]))
        return [p for _, _, p in timed], dropped

    def _drain(self) -> bytes:
        assert self._sink is not None
        data = self._sink.getvalue()
        self._sink.seek(0)
        self._sink.truncate()
        return data

    def _close_output(self, keep: bool = False) -> None:
        if self._out is not None:
            try:
                self._out.close()
            except av.FFmpegError as exc:  # nothing more we can do with this stream
                log.warning("closing the TS muxer failed: %s", exc)
        self._out, self._out_streams = None, {}
        if not keep:
            self._sink = None


# ---------------------------------------------------------------------- demux


def _demux(seg: SegmentData, what: str) -> list[_Track]:
    data = seg.init + seg.media
    if not seg.media:
        raise SegmentError(f"{what} is empty", code="empty_segment")
    if data[:4] == b"\x1a\x45\xdf\xa3":
        raise MediaError(f"{what} is WebM/Matroska; only fMP4 and MPEG-TS segments are supported",
                         code="unsupported_container",
                         user_message="This video uses a format (WebM) that Marquee cannot play yet.")
    is_ts = not seg.init and seg.media[:1] == b"\x47"
    if is_ts:
        _check_ts(seg.media, what)
    else:
        if seg.init:
            _check_boxes(seg.init, f"{what} init")
        _check_boxes(seg.media, what)
    try:
        # fMP4 declares every codec parameter in its moov: no need for FFmpeg to probe
        # frames (that probing was ~80% of the remux cost).
        options = {} if is_ts else {"probesize": "4096", "analyzeduration": "0"}
        with av.open(io.BytesIO(data), "r", format="mpegts" if is_ts else None, options=options) as inp:
            return _read_tracks(inp, what)
    except av.FFmpegError as exc:
        raise SegmentError(f"{what} does not parse: {exc}", code="corrupt_segment",
                           user_message="A piece of the video was damaged.") from exc


def _read_tracks(inp: Any, what: str) -> list[_Track]:
    tracks: dict[int, _Track] = {}
    filters: dict[int, Any] = {}
    adts: dict[int, bytes | None] = {}
    for s in inp.streams:
        if s.type not in ("video", "audio"):
            continue
        name = s.codec_context.name
        if s.type == "video":
            if name not in _ANNEXB_FILTERS and name not in _VIDEO_AS_IS:
                raise _unsupported(name)
            if name in _ANNEXB_FILTERS:
                filters[s.index] = av.bitstream.BitStreamFilterContext(_ANNEXB_FILTERS[name], s)
            tracks[s.index] = _Track("video", name, [], s.codec_context.width, s.codec_context.height)
        else:
            if name != "aac" and name not in _AUDIO_AS_IS:
                raise _unsupported(name)
            if name == "aac":
                adts[s.index] = _adts_fixed(bytes(s.codec_context.extradata or b""), what)
            tracks[s.index] = _Track("audio", name, [], sample_rate=s.codec_context.sample_rate)
    if not tracks:
        raise SegmentError(f"{what} has no audio or video stream", code="corrupt_segment")
    for pkt in inp.demux(*[inp.streams[i] for i in tracks]):
        if pkt.size == 0:  # demuxer flush marker
            continue
        if pkt.is_corrupt:
            raise SegmentError(f"{what} has a corrupt packet at pts {pkt.pts}", code="corrupt_segment")
        i = pkt.stream_index
        tb = pkt.time_base
        if i in filters:
            for out in filters[i].filter(pkt):
                out.time_base = tb
                tracks[i].packets.append(out)
        elif adts.get(i) is not None and not _is_adts(pkt):
            tracks[i].packets.append(_with_adts(pkt, adts[i]))  # type: ignore[arg-type]
        else:
            tracks[i].packets.append(pkt)
    for i, f in filters.items():
        for out in f.filter(None):
            tracks[i].packets.append(out)
    result = [t for t in tracks.values() if t.packets]
    for t in result:
        if t.kind == "video" and not t.packets[0].is_keyframe:
            raise SegmentError(f"{what} does not start with a keyframe", code="corrupt_segment")
    if not result:
        raise SegmentError(f"{what} holds no packets", code="corrupt_segment")
    return result


def _unsupported(codec: str) -> MediaError:
    return MediaError(
        f"codec {codec!r} cannot be carried in MPEG-TS for mpv (supported: H.264, HEVC, "
        f"MPEG-2 video, AAC, AC-3, E-AC-3, MP3)",
        code="unsupported_codec",
        user_message=f"This video uses a format ({codec}) that Marquee cannot play yet.",
    )


def _time_span(track: _Track) -> tuple[float, float]:
    start = end = None
    for p in track.packets:
        if p.pts is None:
            continue
        t0 = float((p.pts * p.time_base))
        t1 = t0 + float(((p.duration or 0) * p.time_base))
        start = t0 if start is None else min(start, t0)
        end = t1 if end is None else max(end, t1)
    if start is None or end is None:
        return 0.0, 0.0
    return start, end


def _to90k(value: int, tb: Any) -> int:  # tb: Fraction-like (numerator, denominator)
    if tb == _TS_TB:
        return int(value)
    return int((value * tb.numerator * 90_000 + tb.denominator // 2) // tb.denominator)


# --------------------------------------------------------------- validation


def _check_boxes(data: bytes, what: str) -> None:
    """Walk the top-level ISO-BMFF boxes; a truncated or garbled segment fails here."""
    pos, n = 0, len(data)
    seen: list[bytes] = []
    while pos < n:
        if n - pos < 8:
            raise SegmentError(f"{what}: {n - pos} stray bytes at offset {pos}", code="truncated_segment")
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if n - pos < 16:
                raise SegmentError(f"{what}: truncated box header at {pos}", code="truncated_segment")
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = n - pos
        if not kind.isascii() or not kind.replace(b" ", b"a").isalnum():
            raise SegmentError(f"{what}: garbage box type {kind!r} at offset {pos}", code="corrupt_segment")
        if size < header:
            raise SegmentError(f"{what}: box {kind!r} has bad size {size}", code="corrupt_segment")
        if pos + size > n:
            raise SegmentError(
                f"{what}: box {kind.decode()} needs {size} bytes at offset {pos}, only {n - pos} left",
                code="truncated_segment", user_message="A piece of the video arrived incomplete.")
        seen.append(kind)
        pos += size
    if b"moov" not in seen and b"moof" not in seen:
        raise SegmentError(f"{what}: no moov or moof box", code="corrupt_segment")


def _check_ts(data: bytes, what: str) -> None:
    if len(data) % 188:
        raise SegmentError(f"{what}: {len(data)} bytes is not a whole number of TS packets",
                           code="truncated_segment")
    if any(data[i] != 0x47 for i in range(0, len(data), 188)):
        raise SegmentError(f"{what}: TS sync byte missing", code="corrupt_segment")


# --------------------------------------------------------------------- ADTS


def _adts_fixed(asc: bytes, what: str) -> bytes | None:
    """The fixed part of an ADTS header (profile, rate, channels) from an AudioSpecificConfig.

    Returns None when there is no ASC (the packets are already ADTS, as from a TS source).
    """
    if len(asc) < 2:
        return None
    bits = int.from_bytes(asc, "big")
    nbits = len(asc) * 8
    pos = 0

    def take(k: int) -> int:
        nonlocal pos
        if pos + k > nbits:
            raise SegmentError(f"{what}: AudioSpecificConfig too short", code="corrupt_segment")
        pos += k
        return (bits >> (nbits - pos)) & ((1 << k) - 1)

    def aot() -> int:
        v = take(5)
        return 32 + take(6) if v == 31 else v

    def rate_index() -> int:
        i = take(4)
        if i == 15:
            raise MediaError(f"{what}: explicit AAC sample rate {take(24)} has no ADTS form",
                             code="unsupported_codec")
        return i

    obj = aot()
    sfi = rate_index()
    chan = take(4)
    if obj in (5, 29):  # explicit SBR/PS: the core follows
        sfi = rate_index()
        obj = aot()
    if not 1 <= obj <= 4:
        raise MediaError(f"{what}: AAC object type {obj} cannot be framed as ADTS", code="unsupported_codec")
    return bytes([0xFF, 0xF1, ((obj - 1) << 6) | (sfi << 2) | (chan >> 2), (chan & 3) << 6])


def _is_adts(pkt: av.Packet) -> bool:
    head = bytes(memoryview(pkt)[:2]) if pkt.size >= 2 else b""
    return len(head) == 2 and head[0] == 0xFF and head[1] & 0xF0 == 0xF0


def _with_adts(pkt: av.Packet, fixed: bytes) -> av.Packet:
    length = pkt.size + 7
    if length > 0x1FFF:
        raise SegmentError(f"AAC frame of {pkt.size} bytes is too large for ADTS", code="corrupt_segment")
    header = fixed[:3] + bytes([
        fixed[3] | (length >> 11),
        (length >> 3) & 0xFF,
        ((length & 7) << 5) | 0x1F,
        0xFC,
    ])
    out = av.Packet(header + bytes(pkt))
    out.time_base = pkt.time_base
    out.pts, out.dts, out.duration = pkt.pts, pkt.dts, pkt.duration
    out.is_keyframe = True
    return out
