"""How far apart the posters of a build look: a perceptual hash (pHash) per poster and the
Hamming distance between the hashes of every two titles.

pHash as in the literature (Zauner 2010; the ``imagehash`` library's ``phash``): grey, 32x32,
2-D DCT, the 8x8 lowest frequencies against their median -> 64 bits. Two unrelated photos are
~32 bits apart; re-encodes and small edits of one image stay under ~8. A few lines of numpy
instead of a dependency that brings scipy and PyWavelets along.

``python -m service.content.phash [CONTENT_DIR] [--threshold N]`` prints, per artwork variant,
the share of title pairs whose posters are more than N bits apart, and the closest pairs.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from PIL import Image

HASH_SIDE = 8
SAMPLE_SIDE = 32
DEFAULT_THRESHOLD = 18  # bits of 64: far beyond a re-encode or a small edit (<= 8); the old one-motif posters had 13-33 % of pairs at or under it


@lru_cache(maxsize=1)
def _dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II matrix: ``M @ x`` is the DCT of the column ``x``."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m


def phash(img: Image.Image) -> int:
    """The 64-bit perceptual hash of ``img``."""
    grey = np.asarray(img.convert("L").resize((SAMPLE_SIDE, SAMPLE_SIDE), Image.Resampling.LANCZOS), dtype=float)
    m = _dct_matrix(SAMPLE_SIDE)
    low = (m @ grey @ m.T)[:HASH_SIDE, :HASH_SIDE]
    bits = (low > np.median(low)).flatten()
    return int("".join("1" if b else "0" for b in bits), 2)


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


@dataclass(frozen=True)
class PairReport:
    pairs: int
    above: int  # pairs farther apart than the threshold
    threshold: int
    min_distance: int
    median_distance: float
    closest: tuple[tuple[str, str, int], ...]

    @property
    def share_above(self) -> float:
        return self.above / self.pairs if self.pairs else 1.0


def pair_report(hashes: Mapping[str, int], threshold: int = DEFAULT_THRESHOLD, closest: int = 5) -> PairReport:
    """Distances between every two entries of ``hashes`` (name -> hash)."""
    pairs = [(a, b, distance(hashes[a], hashes[b])) for a, b in itertools.combinations(sorted(hashes), 2)]
    if not pairs:
        return PairReport(0, 0, threshold, 64, 64.0, ())
    dists = [d for _, _, d in pairs]
    return PairReport(pairs=len(pairs), above=sum(d > threshold for d in dists), threshold=threshold,
                      min_distance=min(dists), median_distance=float(np.median(dists)),
                      closest=tuple(sorted(pairs, key=lambda p: p[2])[:closest]))


def poster_hashes(content: Path, variant: int) -> dict[str, int]:
    """title id -> pHash of its ``poster-<variant>.jpg`` in a built content folder."""
    out = {}
    for folder in sorted((content / "artwork").iterdir()):
        poster = folder / f"poster-{variant}.jpg"
        if poster.is_file():
            with Image.open(poster) as img:
                out[folder.name] = phash(img)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.content.phash", description=__doc__.split("\n\n")[0])
    parser.add_argument("content", nargs="?", type=Path, help="a built content folder (default: the app's)")
    parser.add_argument("--threshold", type=int, default=DEFAULT_THRESHOLD, help="bits (of 64); default %(default)s")
    args = parser.parse_args(argv)
    if args.content is None:
        from marquee.paths import content_dir

        args.content = content_dir()
    if not (args.content / "artwork").is_dir():
        print(f"no artwork in {args.content}: build the content first (marquee content build)", file=sys.stderr)
        return 2
    variants = sorted({int(p.stem.split("-")[1]) for p in (args.content / "artwork").glob("*/poster-*.jpg")})
    print(f"{'variant':>7} {'titles':>6} {'pairs':>6} {'> ' + str(args.threshold) + ' bits':>10} "
          f"{'min':>4} {'median':>6}  closest pairs")
    worst = 1.0
    for v in variants:
        hashes = poster_hashes(args.content, v)
        r = pair_report(hashes, args.threshold, closest=3)
        worst = min(worst, r.share_above)
        close = ", ".join(f"{a}/{b}={d}" for a, b, d in r.closest)
        print(f"{v:>7} {len(hashes):>6} {r.pairs:>6} {r.share_above:>9.1%} {r.min_distance:>4} "
              f"{r.median_distance:>6.1f}  {close}")
    return 0 if worst >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
