"""SegmentTemplate identifiers and format tags."""

from __future__ import annotations

import pytest

from marquee.errors import ManifestError
from player.manifest.dash_segments import compile_template

VALUES = {"rep_id": "v1", "number": 42, "bandwidth": 800000, "time": 900000}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("$RepresentationID$/$Number$.m4s", "v1/42.m4s"),
        ("seg-$Number%05d$.m4s", "seg-00042.m4s"),
        ("seg-$Number%5d$.m4s", "seg-00042.m4s"),
        ("$Bandwidth$/$Time$.mp4", "800000/900000.mp4"),
        ("$Time%012d$", "000000900000"),
        ("cost$$/$Number%01d$", "cost$/42"),
        ("plain.mp4", "plain.mp4"),
        ("$Number%02d$", "42"),  # a width smaller than the number does not cut it
    ],
)
def test_template_identifiers(template: str, expected: str) -> None:
    assert compile_template(template, "here")(**VALUES) == expected


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("$Number", "unpaired '$'"),
        ("$Nmber$", "unknown identifier $Nmber$"),
        ("$Number%s$", "unknown identifier $Number%s$"),
        ("$Number%0999d$", "unknown identifier"),  # absurd widths are refused, not allocated
    ],
)
def test_template_errors(template: str, fragment: str) -> None:
    with pytest.raises(ManifestError, match="here: .*" + fragment.replace("$", r"\$").replace("%", "%")):
        compile_template(template, "here")
