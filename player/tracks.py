"""Which tracks of a presentation one playback uses (pure: a presentation in, a choice out).

The video ladder (one representation per bit rate, ascending), the audio language and
its top representation, the text tracks, and the ABR ``Ladder`` describing them. The
choice is a mutable holder because SegmentBase representations learn their segments
from a sidx box only once fetched (``replace``).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from abr.api import Ladder
from marquee.errors import ManifestError
from player.events import TrackInfo
from player.manifest.model import Presentation, Representation, Track
from player.model import Rung


@dataclass
class Tracks:
    video: tuple[Representation, ...]
    audio_by_language: dict[str, Track]
    audio: Representation | None
    audio_language: str
    text: tuple[Track, ...]
    ladder: Ladder
    duration_s: float
    rungs: tuple[Rung, ...] = field(default=())

    def replace(self, old: Representation, new: Representation) -> None:
        """``new`` is ``old`` with its segment list filled in (from its sidx)."""
        self.video = tuple(new if r is old else r for r in self.video)
        if self.audio is old:
            self.audio = new

    def choose_audio(self, language: str) -> bool:
        """Switch to ``language``; False when it is unknown or already playing."""
        track = self.audio_by_language.get(language)
        if track is None or track.representations[0] is self.audio:
            return False
        self.audio = track.ladder()[-1]
        self.audio_language = language
        return True

    def infos(self) -> list[TrackInfo]:
        out = [TrackInfo("video", r.id, "", f"{r.height or '?'}p", r.bandwidth / 1000, r.height or 0)
               for r in self.video]
        out += [TrackInfo("audio", t.id, lang, t.label or lang) for lang, t in self.audio_by_language.items()]
        out += [TrackInfo("text", t.id, t.language or "und", t.label or t.language or "") for t in self.text]
        return out


def select_tracks(presentation: Presentation, audio_language: str | None) -> Tracks:
    period = presentation.periods[0]
    reps = period.video_ladder()
    if not reps:
        raise ManifestError("the manifest has no video", user_message="This title has no video to play.")
    # One representation per bitrate (the ABR ladder must be strictly ascending).
    unique: dict[int, Representation] = {}
    for rep in reps:
        unique.setdefault(rep.bandwidth, rep)
    video = tuple(unique.values())
    declared = tuple(r for r in video if r.bandwidth > 0)
    if declared and len(declared) < len(video):  # a rendition without a bit rate cannot be ranked: left out
        video = declared
    bitrates = tuple(float(r.bandwidth) or _nominal_bps(r) for r in video)
    audio_tracks = {language: tracks[0] for language, tracks in period.audio_by_language().items()}
    lang: str | None = audio_language if audio_language in audio_tracks else next(iter(audio_tracks), None)
    durations = [s.duration_s for s in video[0].segments] or [2.0]
    ladder = Ladder(
        bitrates_bps=bitrates,
        segment_seconds=statistics.median(durations),
        segment_sizes=_segment_sizes(video),
        segment_count=len(video[0].segments) or None,
    )
    return Tracks(
        video=video,
        audio_by_language=audio_tracks,
        audio=audio_tracks[lang].ladder()[-1] if lang else None,
        audio_language=lang or "",
        text=period.text_tracks(),
        ladder=ladder,
        duration_s=presentation.duration_s or sum(durations),
        rungs=tuple(Rung(bps, r.width or 0, r.height or 0) for bps, r in zip(bitrates, video)),
    )


def _nominal_bps(rep: Representation) -> float:
    """A stand-in bit rate for the one rendition of a stream that declares none (an HLS media
    playlist opened directly): its mean from the segment sizes when the manifest gives them, else
    1 bit/s (a ladder of one rung is never compared). The fetch cap still uses the declared 0,
    so such segments get the hard cap, not one derived from the stand-in."""
    sized = [(s.size_bytes, s.duration_s) for s in rep.segments if s.size_bytes and s.duration_s > 0]
    if sized:
        return max(1.0, sum(b for b, _ in sized) * 8 / sum(d for _, d in sized))
    return 1.0


def _segment_sizes(video: tuple[Representation, ...]) -> tuple[tuple[int, ...], ...] | None:
    rows = []
    for rep in video:
        sizes = [s.size_bytes for s in rep.segments]
        if not sizes or any(s is None for s in sizes):
            return None
        rows.append(tuple(int(s) for s in sizes if s is not None))
    return tuple(rows)
