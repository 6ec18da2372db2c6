"""Scenario validation: every error names its line; the [ci] form; the ready library."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from abr.traces import Trace
from marquee.errors import ConfigError
from qa.scenario import library, load_scenario, merge, parse_scenario, profile_trace, ProfileStep

GOOD = """name = "ok"
[content]
title = "t001"
duration_s = 20
[network]
mbps = 4
[[faults]]
oca = "oca-2"
at_s = 3
until_s = 6
down = true
"""


def _errors(text: str, **kw) -> list[tuple[int, str]]:
    with pytest.raises(ConfigError) as info:
        parse_scenario(text, "s.toml", **kw)
    found = re.findall(r"^s\.toml:(\d+): (.*)$", info.value.message, re.M)
    assert found, info.value.message
    return [(int(n), msg) for n, msg in found]


def test_a_good_scenario_parses():
    scn = parse_scenario(GOOD, "s.toml")
    assert scn.name == "ok" and scn.duration_s == 20 and scn.oca_ids == ["oca-1", "oca-2", "oca-3"]
    assert scn.faults[0].oca == "oca-2" and scn.faults[0].down and scn.faults[0].until_s == 6
    assert scn.links["oca-1"].base.bw_mbps[-1] == 4


@pytest.mark.parametrize("edit, line, words", [
    (("duration_s = 20", "duration_s = -1"), 4, "content.duration_s: -1 is out of range"),
    (("duration_s = 20", 'duration_s = "long"'), 4, "must be a number"),
    (("title = \"t001\"", "title = \"t001\"\ncolour = 1"), 4, "content.colour: unknown key"),
    (("mbps = 4", "mbps = 4\npreset = \"3g\""), 7, "give one of"),
    (("mbps = 4", "preset = \"5g\""), 6, "unknown preset '5g'"),
    (("oca = \"oca-2\"", "oca = \"oca-9\""), 8, "'oca-9' is not an OCA"),
    (("until_s = 6", "until_s = 2"), 10, "must be after at_s"),
    (("down = true", "down = \"yes\""), 11, "must be true or false"),
    (("down = true", "colour = 1"), 11, "faults.0.colour: unknown key"),
    (("mbps = 4", "profile = [{mbps = 5, for_s = 3}, {mbps = 0.8, for_s = -2}]"), 6, "network.profile.1.for_s"),
    (("mbps = 4", "trace = \"no/such/file\""), 6, "no trace file"),
])
def test_errors_name_the_line(edit, line, words):
    text = GOOD.replace(*edit)
    errors = _errors(text, resolve_trace=_no_files)
    assert any(n == line and words in msg for n, msg in errors), errors


def _no_files(ref: str) -> Trace:
    raise ConfigError(f"no trace file {ref!r}")


def test_all_errors_are_reported_at_once_in_line_order():
    text = GOOD.replace("duration_s = 20", "duration_s = 0").replace("until_s = 6", "until_s = 1")
    errors = _errors(text)
    assert [n for n, _ in errors] == [4, 10]


def test_missing_name_and_toml_syntax_errors():
    assert _errors(GOOD.replace('name = "ok"\n', ""))[0][1].startswith("name: missing")
    with pytest.raises(ConfigError, match=r"line 3"):
        parse_scenario('name = "x"\n[content]\ntitle = = 2\n', "s.toml")


def test_an_unknown_algorithm_or_parameter_is_reported_on_the_variant():
    errors = _errors(GOOD + '[[variants]]\nname = "a"\nalgo = "nope"\n')
    assert any(n == 14 and "variants.0.algo" in msg for n, msg in errors), errors
    errors = _errors(GOOD + '[[variants]]\nalgo = "default"\nparams = {no_such_knob = "1"}\n')
    assert any(n == 14 and "variants.0.params" in msg for n, msg in errors), errors


def test_the_ci_form_overrides_and_reports_its_own_lines():
    text = GOOD + "[ci]\ncontent = {duration_s = 5}\nfaults = [{oca = \"oca-1\", at_s = 1, down = true}]\n"
    full, short = parse_scenario(text, "s.toml"), parse_scenario(text, "s.toml", ci=True)
    assert full.duration_s == 20 and not full.short
    assert short.duration_s == 5 and short.short and short.faults[0].oca == "oca-1"
    assert short.title == "t001" and short.links == full.links  # untouched keys kept
    bad = GOOD + "[ci]\ncontent = {duration_s = -5}\n"
    parse_scenario(bad, "s.toml")  # the full form does not use it
    errors = _errors(bad, ci=True)
    assert errors[0][0] == 13, errors


def test_merge_is_recursive_for_tables_and_replaces_arrays():
    assert merge({"a": {"x": 1, "y": 2}, "l": [1, 2]}, {"a": {"y": 3}, "l": [9]}) == {"a": {"x": 1, "y": 3}, "l": [9]}


def test_profile_steps_become_a_trace_whose_last_step_holds():
    tr = profile_trace([ProfileStep(5, 30), ProfileStep(0.8, None)])
    assert tr.times_s[:2] == (0.0, 30.0) and tr.bw_mbps[1:] == (5, 0.8) and tr.times_s[-1] >= 3600


def test_faults_are_refused_for_third_party_urls():
    text = GOOD.replace('title = "t001"', 'url = "https://example.com/a.mpd"')
    assert any("third-party" in msg for _, msg in _errors(text))


def test_per_oca_networks_override_the_common_one():
    text = GOOD + '[network.ocas.oca-2]\nprofile = [{mbps = 1, for_s = 5}, {mbps = 9}]\nrtt_ms = 50\n'
    scn = parse_scenario(text, "s.toml")
    assert scn.links["oca-1"].base.bw_mbps[-1] == 4 and scn.links["oca-2"].base.bw_mbps[-1] == 9
    assert scn.links["oca-2"].rtt_ms == 50 and scn.links["oca-1"].rtt_ms == 0


def test_token_expiry_is_a_fault_with_only_a_time():
    scn = parse_scenario(GOOD + "[[faults]]\ntoken_expiry = true\nat_s = 7\n", "s.toml")
    assert scn.token_expiry_s == 7 and len(scn.faults) == 1
    errors = _errors(GOOD + "[[faults]]\ntoken_expiry = true\nat_s = 7\ndown = true\n")
    assert any(n == 15 and "only at_s" in msg for n, msg in errors), errors


NAMES = {"steady-fast", "3g-commute", "sudden-drop", "slow-start", "flapping-oca", "oca-dies", "all-ocas-down",
         "token-expiry", "seek-storm"}


def test_the_library_has_every_ready_scenario():
    assert {p.stem for p in library()} == NAMES


@pytest.mark.parametrize("path", library(), ids=lambda p: p.stem)
def test_every_ready_scenario_is_valid_in_both_forms(path: Path):
    full, short = load_scenario(path), load_scenario(path, ci=True)
    assert short.short and short.duration_s <= 16 < full.duration_s  # the CI form fits the quick content
    assert len(short.variants) == 1
    assert full.thresholds.max_fatal_errors == 0 and full.thresholds.max_startup_s is not None
