"""Sidecar subtitles: fetched through the fetcher (failover, tokens), handed to mpv from memory."""

from __future__ import annotations

from typing import Callable, Protocol

from marquee.errors import MarqueeError
from player.fetch import Fetcher
from player.manifest.model import SegmentRef, Track
from player.pipeline import target


class SubtitleOutput(Protocol):
    def add_subtitle(self, path_or_url: str, *, language: str = "", title: str = "", select: bool = True) -> None: ...
    def set_subtitle_track(self, track_id: int | None) -> None: ...


Report = Callable[[str, str, str], None]  # (category, code, message): a recoverable error


class Subtitles:
    def __init__(self, output: SubtitleOutput, report: Report) -> None:
        self.output = output
        self.report = report
        self.loaded: tuple[str, str, str] | None = None  # (language, title, WebVTT text)
        self.file_loaded = False  # mpv has the current stream open (it takes subtitles then)

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
        text = b"".join(p.data for p in parts).decode("utf-8", "replace")
        self.loaded = (language, track.label or language, text)
        if self.file_loaded:
            self.attach()
        return True

    def stream_opened(self) -> None:
        self.file_loaded = False

    def stream_loaded(self) -> None:
        self.file_loaded = True
        self.attach()

    def attach(self) -> None:
        """Hand the fetched subtitles to mpv; again after every (re)load of the stream,
        since mpv forgets added subtitle files when a new file is loaded."""
        if self.loaded is None:
            return
        language, title, text = self.loaded
        try:
            # mpv reads subtitles from memory: nothing touches the disk (offline titles too).
            self.output.add_subtitle("memory://" + text, language=language, title=title)
        except MarqueeError as exc:
            self.report("media", "subtitles", f"subtitles could not be shown: {exc.message}")
