"""The perceptual hash, and the distance between the posters of a real (quick) build."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from service.content.phash import DEFAULT_THRESHOLD, distance, pair_report, phash, poster_hashes


def _picture(shapes: list[tuple[int, int, int]]) -> Image.Image:
    img = Image.new("RGB", (400, 600), (30, 30, 60))
    d = ImageDraw.Draw(img)
    for x, y, r in shapes:
        d.ellipse((x - r, y - r, x + r, y + r), fill=(240, 220, 180))
    return img


def test_a_reencode_stays_close_and_another_picture_is_far() -> None:
    a = _picture([(120, 150, 80), (300, 450, 60)])
    buf = io.BytesIO()
    a.save(buf, "JPEG", quality=40)
    reencoded = Image.open(buf)
    b = _picture([(300, 120, 90), (90, 480, 110)])
    assert distance(phash(a), phash(a)) == 0
    assert distance(phash(a), phash(reencoded)) <= 4
    assert distance(phash(a), phash(b)) > DEFAULT_THRESHOLD


def test_pair_report_counts_pairs_above_the_threshold() -> None:
    hashes = {"a": 0, "b": 0b1111, "c": (1 << 64) - 1}
    report = pair_report(hashes, threshold=10)
    assert report.pairs == 3 and report.above == 2 and report.min_distance == 4
    assert report.closest[0] == ("a", "b", 4)
    assert pair_report({"only": 1}).share_above == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("variant", range(4))
def test_the_builds_posters_are_far_apart(quick_content: Path, variant: int) -> None:
    hashes = poster_hashes(quick_content, variant)
    assert len(hashes) == 62
    report = pair_report(hashes)
    assert report.share_above >= 0.95, report
