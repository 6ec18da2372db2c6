"""Subtitles: fetched through the fetcher (failover, tokens), parsed into cues (WebVTT,
segmented HLS WebVTT, TTML/IMSC, SRT), and handed to mpv from memory as one WebVTT file
on the clock of the stream mpv plays (content time + the remuxer's fixed offset)."""

from __future__ import annotations

import logging
from typing import Callable, Protocol

from marquee.errors import MarqueeError
from player.fetch import Fetcher
from player.manifest.model import SegmentRef, Track
from player.pipeline import target
from player.remux import TS_OFFSET_S
from player.subtitle_text import Cue, SubtitleFormatError, parse_subtitle, render_webvtt


log = logging.getLogger("marquee.player.subtitles")


class SubtitleOutput(Protocol):
    def add_subtitle(self, path_or_url: str, *, language: str = "", title: str = "", select: bool = True) -> None: ...
    def set_subtitle_track(self, track_id: int | None) -> None: ...


Report = Callable[[str, str, str], None]  # (category, code, message): a recoverable error


class Subtitles:
    def __init__(self, output: SubtitleOutput, report: Report) -> None:
        self.output = output
        self.report = report
        self.loaded: tuple[str, str, tuple[Cue, ...]] | None = None  # (language, title, cues)
        self.file_loaded = False  # mpv has the current stream open (it takes subtitles then)
        self.time_offset_s = TS_OFFSET_S  # stream time - content time of the stream mpv plays

    def off(self) -> None:
        self.loaded = None
        self.output.set_subtitle_track(None)

    async def load(self, fetcher: Fetcher, tracks: tuple[Track, ...], language: str) -> bool:
        """Fetch the track of ``language``; True when it is ready (and shown if mpv is)."""
        track = next((t for t in tracks if t.language == language), None)
        if track is None:
            return False
        rep = track.representations[0]
        refs = list(rep.segments) or ([SegmentRef(0, 0.0, 0.0, rep.media_url)] if rep.media_url else [])
        try:
            parts = [await fetcher.fetch(target(r, f"subtitles {language}")) for r in refs]
        except MarqueeError as exc:
            self.report("network", "subtitles", f"subtitles could not be loaded: {exc.message}")
            return False
        try:
            cues = parse_subtitle([p.data for p in parts], mime=track.mime or rep.mime or "",
                                  codecs=track.codecs or rep.codecs or "")
        except SubtitleFormatError as exc:
            self.report("media", "subtitles", f"The {language} subtitles cannot be shown: {exc}.")
            return False
        if not cues:
            self.report("media", "subtitles", f"The {language} subtitles have no text to show.")
            return False
        self.loaded = (language, track.label or language, tuple(cues))
        if self.file_loaded:
            self.attach()
        return True

    def stream_opened(self, time_offset_s: float = TS_OFFSET_S) -> None:
        """A new stream is about to play; its timestamps are content time + ``time_offset_s``."""
        self.file_loaded = False
        self.time_offset_s = time_offset_s

    def stream_loaded(self) -> None:
        self.file_loaded = True
        self.attach()

    def attach(self) -> None:
        """Hand the fetched subtitles to mpv; again after every (re)load of the stream,
        since mpv forgets added subtitle files when a new file is loaded."""
        if self.loaded is None:
            return
        language, title, cues = self.loaded
        text = render_webvtt(cues, shift_s=self.time_offset_s)
        try:
            # mpv reads subtitles from memory: nothing touches the disk (offline titles too).
            self.output.add_subtitle("memory://" + text, language=language, title=title)
        except MarqueeError as exc:
            log.warning("mpv refused the %s subtitles: %s", language, exc.message)
            self.report("media", "subtitles", f"The {language} subtitles could not be shown.")
