"""Fetched segments in, one long-lived Matroska (or MPEG-TS) byte stream out (no transcoding).

libmpv (0.35 / FFmpeg 5.1) does not accept a new fMP4 init segment in the middle of
one byte stream, so every segment the engine fetches is remuxed with PyAV into a
single stream that lives as long as the feed. The engine's container is Matroska
(docs/architecture.md says why: it carries H.264, HEVC, AV1, VP9 and AAC, Opus, FLAC,
AC-3, E-AC-3; MPEG-TS carries neither VP9 nor, for mpv, AV1 or Opus):

* one output muxer for the life of the stream, written live (a non-seekable sink:
  clusters of unknown size, nothing patched afterwards) and drained after each segment;
* the track headers copied from the first segment's streams (``avcC``/``hvcC``,
  ``av1C``, OpusHead, FLAC STREAMINFO, AAC AudioSpecificConfig);
* H.264/HEVC through a fresh ``*_mp4toannexb`` filter per segment and back to length
  prefixes, so each rung's SPS/PPS travel in-band on its first keyframe and a 144p <->
  1080p switch is seamless; AV1 and VP9 carry their sequence/frame headers in-band;
* source timestamps preserved with one fixed offset (``TS_OFFSET_S``), so stream time
  = source time + offset, never renormalised (``avoid_negative_ts`` disabled).

``TsRemuxer`` keeps the MPEG-TS form (Annex B video, ADTS AAC) for the codecs TS carries.
A segment is fully demuxed and checked before a single packet reaches the muxer,
so a corrupt or truncated segment raises :class:`SegmentError` (recoverable: fetch
it again from another OCA) and leaves the long-lived stream untouched.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av

from marquee.errors import MediaError
from player.segment_input import DemuxedTrack, SegmentData, SegmentError, demux, time_span

__all__ = ["RemuxResult", "SegmentData", "SegmentError", "StreamRemuxer", "TS_OFFSET_S", "TsRemuxer"]

log = logging.getLogger("marquee.player.remux")

TS_OFFSET_S = 10.0
"""TS time = source time + this. Keeps B-frame DTS and AAC priming (negative in the
source) positive; the mpv adapter subtracts it again to report content time."""

_TS_TB = Fraction(1, 90_000)



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


class _LiveSink(io.RawIOBase):
    """Where the Matroska muxer writes: not seekable, so it writes a live stream (clusters
    of unknown size, no index to patch afterwards) that can be drained after each segment."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data: Any) -> int:
        self.buffer += data
        return len(data)

    def take(self) -> bytes:
        out, self.buffer = bytes(self.buffer), bytearray()
        return out


class StreamRemuxer:
    """Turns segments into one continuous stream for mpv: Matroska (the engine's choice,
    see docs/architecture.md: it carries every codec, and H.264/HEVC rung switches travel
    as in-band parameter sets) or MPEG-TS (``container="mpegts"``).

    Not thread-safe: call it from one task (the engine runs it in a worker thread
    so the event loop stays free; its cost is well under 1% of a core at 1080p).
    """

    def __init__(self, *, offset_s: float = TS_OFFSET_S, container: str = "matroska") -> None:
        if container not in ("matroska", "mpegts"):
            raise ValueError(f"unknown container {container!r}")
        self.container = container
        self._tb = Fraction(1, 1000) if container == "matroska" else _TS_TB
        self._offset_s = offset_s
        self._offset_ts = int(round(offset_s / self._tb))
        self._live: _LiveSink | None = None
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
        tracks: list[DemuxedTrack] = []
        if video is not None:
            tracks.extend(demux(video, "video segment", self.container))
        if audio is not None:
            tracks.extend(t for t in demux(audio, "audio segment", self.container) if t.kind == "audio")
        by_kind: dict[str, DemuxedTrack] = {}
        for t in tracks:
            by_kind.setdefault(t.kind, t)  # first video, first audio; others are not ours
        if not by_kind:
            raise SegmentError("segment has no audio or video packets", code="empty_segment",
                               user_message="A piece of the video was empty.")
        first = by_kind.get("video") or by_kind["audio"]
        start, end = time_span(first)  # before _plan rewrites the timestamps
        self._ensure_output(by_kind)
        plan, dropped = self._plan(by_kind)
        try:
            for pkt in plan:
                self._out.mux_one(pkt)
        except av.FFmpegError as exc:  # the muxer state is unknown now: require a restart
            self._broken = MediaError(f"{self.container} muxer failed: {exc}", code="mux_failed")
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
        if self._live is not None:
            data, self._live = self._live.take(), None
            return data
        assert self._sink is not None
        data = self._sink.getvalue()
        self._sink = None
        return data

    # ---------------------------------------------------------------- internal

    def _ensure_output(self, by_kind: dict[str, DemuxedTrack]) -> None:
        if self._out is not None:
            for kind, t in by_kind.items():
                if kind not in self._out_streams:
                    log.warning("dropping %s: the stream was started without it", kind)
            return
        if self.container == "matroska":
            self._live = _LiveSink()
            out = av.open(self._live, "w", format="matroska", options={"live": "1", "avoid_negative_ts": "disabled"})
            self._out_streams = {}
            for kind, t in by_kind.items():
                stream = out.add_stream_from_template(t.template, opaque=True)
                if t.extradata:
                    stream.codec_context.extradata = t.extradata
                self._out_streams[kind] = stream
            self._out = out
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

    def _plan(self, by_kind: dict[str, DemuxedTrack]) -> tuple[list[av.Packet], int]:
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
                pts90 = None if pkt.pts is None else rescale(pkt.pts, tb, self._tb) + self._offset_ts
                dts90 = pts90 if pkt.dts is None else rescale(pkt.dts, tb, self._tb) + self._offset_ts
                if dts90 is None or (last is not None and dts90 <= last):
                    dropped += 1
                    continue
                last = dts90
                pkt.time_base = self._tb
                pkt.pts, pkt.dts = pts90, dts90
                if pkt.duration:
                    pkt.duration = rescale(pkt.duration, tb, self._tb)
                pkt.stream = stream
                timed.append((dts90, order, pkt))
            if last is not None:
                self._last_dts[kind] = last
        if dropped:
            log.warning("dropped %d packets overlapping what was already written", dropped)
        timed.sort(key=lambda x: (x[0], x[1]))
        return [p for _, _, p in timed], dropped

    def _drain(self) -> bytes:
        if self._live is not None:
            return self._live.take()
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
            self._sink = self._live = None


class TsRemuxer(StreamRemuxer):
    """The MPEG-TS form (H.264, HEVC, MPEG-2 video; AAC as ADTS, AC-3, E-AC-3, MP3)."""

    def __init__(self, *, offset_s: float = TS_OFFSET_S) -> None:
        super().__init__(offset_s=offset_s, container="mpegts")


def rescale(value: int, tb: Any, to: Fraction) -> int:  # tb: Fraction-like (numerator, denominator)
    if tb == to:
        return int(value)
    num, den = tb.numerator * to.denominator, tb.denominator * to.numerator
    return int((value * num + den // 2) // den)


def to_90k(value: int, tb: Any) -> int:  # tb: Fraction-like (numerator, denominator)
    if tb == _TS_TB:
        return int(value)
    return int((value * tb.numerator * 90_000 + tb.denominator // 2) // tb.denominator)
