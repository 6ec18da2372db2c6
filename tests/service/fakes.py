"""A small catalogue and a fake built-content folder with the real schemas (no ffmpeg needed)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

GENRE_SETS = [
    ["Action", "Sci-Fi"], ["Action", "Thriller"], ["Sci-Fi", "Thriller"], ["Drama", "Romance"],
    ["Drama", "Crime"], ["Documentary"], ["Comedy", "Romance"], ["Comedy", "Animation"], ["Animation", "Family"],
    ["Family", "Comedy"], ["Horror", "Thriller"], ["Fantasy", "Action"], ["Drama"], ["Comedy"],
]
MATURITY = ["PG-13", "R", "TV-14", "PG", "TV-MA", "G", "TV-PG", "TV-Y"]
NAMES = ["Iron Meridian", "Quiet Harbor", "The Lantern Keepers", "Orbit of Ash", "Paper Moons", "Salt and Signal",
         "Velvet Static", "North of Nowhere", "The Glass Orchard", "Copper Tide", "Midnight Cartographers",
         "Small Hours", "Hollow Crown Road", "Neon Fable", "Brightwater", "The Last Ferry", "Cloud Atlas Kitchen",
         "Signal Lost", "Fox and Comet", "Marble Garden", "Deep Field", "Saturday Robots", "Crimson Ledger",
         "Pocket Dragons"]


def make_catalog(n: int = 24) -> dict[str, Any]:
    titles = []
    for i in range(n):
        tid = f"t{i + 1:03d}"
        genres = GENRE_SETS[i % len(GENRE_SETS)]
        maturity = MATURITY[i % len(MATURITY)]
        if "Family" in genres or "Animation" in genres:
            maturity = "PG" if i % 2 else "TV-Y"
        base: dict[str, Any] = {
            "id": tid, "title": NAMES[i % len(NAMES)], "year": 1990 + i, "genres": genres, "maturity": maturity,
            "synopsis": f"Synopsis of {NAMES[i % len(NAMES)]}.", "cast": [f"Actor {i % 7}", f"Actor {(i * 3) % 11}"],
            "added": f"2025-{1 + i % 12:02d}-{1 + i:02d}", "popularity": round(((i * 37) % 100) / 100, 2),
        }
        if i % 3 == 2:
            base["kind"] = "series"
            base["seasons"] = [{"number": s, "episodes": [
                {"id": f"{tid}-s{s}e{e:02d}", "number": e, "title": f"Episode {e}", "synopsis": "...",
                 "media": f"m{(i + e) % 6}", "runtime_s": 1500} for e in range(1, 4)]} for s in (1, 2)]
        else:
            base.update(kind="film", media=f"m{i % 6}", runtime_s=5400)
        titles.append(base)
    return {"artwork_tags": ["default", "action", "drama", "comedy"], "titles": titles}


SEGMENT_SIZES = {"init.mp4": 1200, "seg-1.m4s": 200_000, "seg-2.m4s": 1_500_000}


def make_content(root: Path, media_ids: tuple[str, ...] = ("m0", "m1"), seed: int = 7) -> Path:
    rng = random.Random(seed)
    (root / "media").mkdir(parents=True, exist_ok=True)
    build: dict[str, Any] = {"version": 1, "quick": True, "segment_seconds": 4, "media": {}, "artwork_variants": 4}
    for mid in media_ids:
        d = root / "media" / mid / "v0"
        d.mkdir(parents=True, exist_ok=True)
        (root / "media" / mid / "manifest.mpd").write_text(
            '<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"/>\n')
        (root / "media" / mid / "master.m3u8").write_text("#EXTM3U\n#EXT-X-VERSION:7\n")
        for name, size in SEGMENT_SIZES.items():
            (d / name).write_bytes(rng.randbytes(size))
        build["media"][mid] = {"duration_s": 8, "ladder": [{"id": "v0", "height": 144, "bandwidth": 200_000}],
                               "audio": ["en"], "subtitles": ["en"]}
    for i in range(1, 4):
        art = root / "artwork" / f"t{i:03d}"
        art.mkdir(parents=True, exist_ok=True)
        for v in range(4):
            (art / f"poster-{v}.jpg").write_bytes(b"\xff\xd8\xff\xe0fakejpeg" + bytes([v]))
            (art / f"backdrop-{v}.jpg").write_bytes(b"\xff\xd8\xff\xe0fakejpeg" + bytes([v]))
    (root / "build.json").write_text(json.dumps(build))
    return root
