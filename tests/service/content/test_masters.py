from __future__ import annotations

from pathlib import Path

from service.content.masters import escape_option, ffmpeg_args, filter_graph, tone_expression
from service.content.spec import quick_spec


def test_escape_option_protects_both_filtergraph_levels() -> None:
    assert escape_option("00:00") == "00\\\\:00"
    assert escape_option("a,b") == "a\\,b"
    assert escape_option("it's") == "it\\\\\\'s"
    assert escape_option("plain") == "plain"


def test_tone_has_one_mark_per_beep() -> None:
    assert tone_expression(440, 1).count("between(") == 1
    assert tone_expression(660, 2).count("between(") == 2
    assert "440" in tone_expression(440, 1)


def test_graph_labels_every_rung_and_runs_a_timecode() -> None:
    spec = quick_spec()
    graph = filter_graph(spec, spec.masters[0], Path("/f/sans.ttf"), Path("/f/mono.ttf"))
    for i, rung in enumerate(spec.ladder):
        assert f"scale={rung.width}:{rung.height}" in graph
        assert f"[v{i}]" in graph
        assert escape_option(rung.label) in graph
    assert graph.count("timecode=") == len(spec.ladder)
    assert f"split={len(spec.ladder)}" in graph


def test_args_force_aligned_closed_gops() -> None:
    spec = quick_spec()
    args = ffmpeg_args(spec, spec.masters[0], Path("/f/sans.ttf"), Path("/f/mono.ttf"))
    joined = " ".join(args)
    assert f"-g {spec.gop}" in joined and f"-keyint_min {spec.gop}" in joined
    assert "-sc_threshold 0" in joined and "-bf 0" in joined and "+cgop" in joined
    assert f"expr:gte(t,n_forced*{spec.segment_s})" in joined
    assert args.count("libx264") == len(spec.ladder)
    assert args.count("aac") == len(spec.audio)
    for track in spec.audio:
        assert f"language={track.lang}" in args
    assert args[-1].endswith(".mpd")
