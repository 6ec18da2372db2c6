"""What the simulator needs to know of the scenario's content (the I/O edge of the sim side):
the video ladder with its real segment sizes, and the audio bytes fetched with each video
segment (the engine muxes audio in; both share the link)."""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from abr.video import Video, load_mpd
from marquee.errors import ConfigError
from qa.scenario import Scenario

_BASE = "http://content.invalid/m/"


@dataclass(frozen=True)
class ContentInfo:
    label: str
    video: Video
    audio_bytes: tuple[int, ...]  # per video segment index
    manifest: Path | None = None


def catalog_path() -> Path:
    from assets import ASSETS_DIR

    return ASSETS_DIR / "catalog.json"


def media_id_for(title: str, catalog: Path | None = None) -> str:
    doc = json.loads((catalog or catalog_path()).read_text(encoding="utf-8"))
    for entry in doc.get("titles", []):
        if entry.get("id") == title and entry.get("media"):
            return str(entry["media"])
        for season in entry.get("seasons", []):
            for ep in season.get("episodes", []):
                if title in (ep.get("id"), entry.get("id")) and ep.get("media"):
                    return str(ep["media"])
    raise ConfigError(f"title {title!r} is not in the catalogue (or has no media)")


def audio_bytes_per_segment(manifest: Path, video: Video) -> tuple[int, ...]:
    """The engine's rule (``PlaybackSession._fetch_audio``): the audio segments whose midpoint
    falls in a video segment travel with it; sizes from the files next to the manifest."""
    from player.manifest.dash import parse_dash

    pres = parse_dash(manifest.read_bytes(), _BASE + "manifest.mpd")
    langs = pres.audio_by_language()
    if not langs:
        return tuple(0 for _ in range(video.segments))
    rep = next(iter(langs.values()))[0].ladder()[-1]
    seg_s = video.ladder.segment_seconds
    out = [0] * video.segments
    for s in rep.segments:
        rel = s.url[len(_BASE):] if s.url.startswith(_BASE) else s.url
        path = manifest.parent / rel
        size = path.stat().st_size if path.is_file() else int(rep.bandwidth * s.duration_s / 8)
        mid = s.start_s + s.duration_s / 2
        out[min(int(mid // seg_s), video.segments - 1)] += size
    return tuple(out)


def content_info(scn: Scenario, content_dir: Path | None) -> ContentInfo:
    if scn.url:
        import httpx

        try:
            data = httpx.get(scn.url, timeout=10, follow_redirects=True).content
        except httpx.HTTPError as exc:
            raise ConfigError(f"cannot fetch {scn.url}: {exc}") from exc
        tmp = Path(tempfile.mkdtemp(prefix="marquee-qa-")) / "manifest.mpd"
        tmp.write_bytes(data)
        video = load_mpd(tmp)  # nominal sizes: the segments are not here
        seg = video.ladder.segment_seconds
        return ContentInfo(scn.url, video, tuple(int(96_000 * seg / 8) for _ in range(video.segments)), None)
    assert scn.title is not None
    media = media_id_for(scn.title)
    if content_dir is None:  # the simulator alone: the sizes shipped with the code
        from qa import sim_profile

        video, audio = sim_profile.load(media)
        return ContentInfo(f"{scn.title} ({media}, shipped segment sizes)", video, audio, None)
    manifest = content_dir / "media" / media / "manifest.mpd"
    if not manifest.is_file():
        raise ConfigError(f"{manifest} is missing: build the content first (`marquee content build`), "
                          "or pass --content DIR")
    video = load_mpd(manifest)
    return ContentInfo(f"{scn.title} ({media})", video, audio_bytes_per_segment(manifest, video), manifest)


def horizon_s(scn: Scenario, video: Video) -> float:
    """How far ahead traces must reach: the run plus generous slack for stalls and outages."""
    outage = sum(((f.until_s or f.at_s) - f.at_s) for f in scn.faults)
    return math.ceil(scn.duration_s * 2 + outage + 60)
