"""``marquee abr-sim`` smoke tests: JSON keys, report, manifest input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main

KEYS = {"algo", "traces", "sessions", "qoe_lin_mean", "rebuffer_s_mean", "bitrate_kbps_mean", "switches_mean",
        "startup_s_mean"}


@pytest.fixture()
def trace_dir(tmp_path: Path) -> Path:
    d = tmp_path / "traces"
    d.mkdir()
    (d / "slow").write_text("".join(f"{i}.0\t{0.8 + 0.3 * (i % 3)}\n" for i in range(120)))
    (d / "fast").write_text("".join(f"{i}.0\t{3.0 + (i % 5)}\n" for i in range(120)))
    (d / "README.md").write_text("not a trace")
    return d


def test_json_lines(trace_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["abr-sim", "--traces", str(trace_dir), "--algo", "default,robustmpc,bba0", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["algo"] for r in rows] == ["default", "robustmpc", "bba0"]
    for r in rows:
        assert KEYS <= set(r)
        assert r["sessions"] == 2 and r["traces"] == "traces"


def test_table_and_report(trace_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    assert main(["abr-sim", "--traces", str(trace_dir / "slow"), "--algo", "default,robustmpc",
                 "--param", "reservoir_s=6", "--report", str(out)]) == 0
    text = capsys.readouterr().out
    assert "QoE_lin" in text and "robustmpc" in text
    html = out.read_text()
    assert html.count("data:image/png;base64,") >= 2


def test_realistic_preset_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["abr-sim", "--traces", "cable", "--mode", "realistic", "--algo", "default", "--json"]) == 0
    row = json.loads(capsys.readouterr().out.splitlines()[0])
    assert row["traces"] == "cable" and row["mode"] == "realistic" and row["sessions"] == 40
    assert main(["abr-sim", "--traces", "nowhere-at-all", "--algo", "default"]) == 2
    assert main(["abr-sim", "--traces", "cable", "--algo", "default", "--param", "bogus=1"]) == 2
    assert "bogus" in capsys.readouterr().err


def test_dash_manifest_sizes_from_segment_files(tmp_path: Path, trace_dir: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from abr.video import load_mpd

    media = tmp_path / "m0"
    for rep, size in (("v0", 1000), ("v1", 3000)):
        (media / rep).mkdir(parents=True)
        for n in range(1, 6):
            (media / rep / f"seg-{n:05d}.m4s").write_bytes(b"x" * (size + n))
    mpd = media / "manifest.mpd"
    mpd.write_text(
        """<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" mediaPresentationDuration="PT20S">
 <Period><AdaptationSet contentType="video">
  <SegmentTemplate timescale="1000" duration="4000" startNumber="1" media="$RepresentationID$/seg-$Number%05d$.m4s"/>
  <Representation id="v1" bandwidth="6000" mimeType="video/mp4"/>
  <Representation id="v0" bandwidth="2000" mimeType="video/mp4"/>
 </AdaptationSet>
 <AdaptationSet contentType="audio"><Representation id="a" bandwidth="128000"/></AdaptationSet>
 </Period></MPD>""")
    video = load_mpd(mpd)
    assert video.ladder.bitrates_bps == (2000.0, 6000.0)
    assert video.ladder.segment_seconds == 4.0 and video.segments == 5
    assert video.ladder.segment_sizes == ((1001, 1002, 1003, 1004, 1005), (3001, 3002, 3003, 3004, 3005))
    assert main(["abr-sim", "--traces", str(trace_dir), "--video", str(mpd), "--algo", "default", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["sessions"] == 2
