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
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av

from marquee.errors import MediaError
from player.segment_input import DemuxedTrack, SegmentData, SegmentError, demux, time_span

__all__ = ["RemuxResult", "SegmentData", "SegmentError", "TS_OFFSET_S", "TsRemuxer"]

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
        tracks: list[DemuxedTrack] = []
        if video is not None:
            tracks.extend(demux(video, "video segment"))
        if audio is not None:
            tracks.extend(t for t in demux(audio, "audio segment") if t.kind == "audio")
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

    def _ensure_output(self, by_kind: dict[str, DemuxedTrack]) -> None:
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
                pts90 = None if pkt.pts is None else to_90k(pkt.pts, tb) + self._offset_ts
                dts90 = pts90 if pkt.dts is None else to_90k(pkt.dts, tb) + self._offset_ts
                if dts90 is None or (last is not None and dts90 <= last):
                    dropped += 1
                    continue
                last = dts90
                pkt.time_base = _TS_TB
                pkt.pts, pkt.dts = pts90, dts90
                if pkt.duration:
                    pkt.duration = to_90k(pkt.duration, tb)
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


def to_90k(value: int, tb: Any) -> int:  # tb: Fraction-like (numerator, denominator)
    if tb == _TS_TB:
        return int(value)
    return int((value * tb.numerator * 90_000 + tb.denominator // 2) // tb.denominator)
