"""What the simulator needs of a demo title, shipped: its video ladder with the byte size of
every segment and the audio bytes that travel with each video segment.

``marquee qa run --sim`` needs no video, only these numbers. When the demo content is built and
current, they are read from it (``qa.media``); on a fresh home they come from
``assets/sim/<media>.json``, exported from a real default build with
``python -m qa.sim_profile export CONTENT_DIR MEDIA`` (written when the way the content is made
changes; ``code_version`` records which media code produced them). A simulation should not wait
minutes of encoding for numbers that do not change between machines by more than the
encoder's own variation.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from abr.api import Ladder
from abr.video import Video, load_mpd
from marquee.errors import ConfigError

FORMAT = 1


def profile_dir() -> Path:
    from assets import ASSETS_DIR

    return ASSETS_DIR / "sim"


def export(content_dir: Path, media: str) -> dict[str, Any]:
    """The profile of ``media`` in a built content folder."""
    from qa.media import audio_bytes_per_segment
    from service.content.state import MEDIA_MODULES, code_version, read_build_json

    manifest = content_dir / "media" / media / "manifest.mpd"
    video = load_mpd(manifest)
    sizes = video.ladder.segment_sizes
    if sizes is None:
        raise ConfigError(f"{manifest}: the segment files are not there")
    info = read_build_json(content_dir) or {}
    return {"format": FORMAT, "media": media, "quick": bool(info.get("quick")),
            "code_version": code_version(MEDIA_MODULES),
            "segment_seconds": video.ladder.segment_seconds, "segments": video.segments,
            "video": [{"bandwidth": int(b), "sizes": list(s)} for b, s in zip(video.ladder.bitrates_bps, sizes)],
            "audio_bytes_per_segment": list(audio_bytes_per_segment(manifest, video))}


def load(media: str, directory: Path | None = None) -> tuple[Video, tuple[int, ...]]:
    """The shipped profile of ``media``: (video, audio bytes per video segment)."""
    path = (directory or profile_dir()) / f"{media}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        rungs = sorted(doc["video"], key=lambda r: int(r["bandwidth"]))
        count = int(doc["segments"])
        ladder = Ladder(tuple(float(r["bandwidth"]) for r in rungs), float(doc["segment_seconds"]),
                        tuple(tuple(int(x) for x in r["sizes"][:count]) for r in rungs), count)
        audio = tuple(int(x) for x in doc["audio_bytes_per_segment"][:count])
    except FileNotFoundError as exc:
        raise ConfigError(f"no shipped segment sizes for {media} ({path})") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path} is not a valid simulation profile: {exc}") from exc
    if any(len(r) != count for r in ladder.segment_sizes or ()) or len(audio) != count:
        raise ConfigError(f"{path}: every rung and the audio need {count} segment sizes")
    return Video(f"{media} (shipped sizes)", ladder), audio


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "export":
        print("usage: python -m qa.sim_profile export CONTENT_DIR MEDIA", file=sys.stderr)
        return 2
    content_dir, media = Path(argv[1]), argv[2]
    out = profile_dir() / f"{media}.json"
    out.write_text(json.dumps(export(content_dir, media), indent=1) + "\n", encoding="utf-8")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
