"""Links, fault plans and the simulator's effective link (pure)."""

from __future__ import annotations

import statistics

import pytest

from qa.network import change_times, effective_trace, fault_points, link_trace, oca_state, rate_at
from qa.scenario import parse_scenario

BASE = """name = "n"
[content]
duration_s = 30
[network]
profile = [{mbps = 5, for_s = 10}, {mbps = 1}]
rtt_ms = 40
"""


def test_a_profile_link_steps_at_the_given_time():
    scn = parse_scenario(BASE, "n.toml")
    tr = link_trace(scn.links["oca-1"], 60)
    assert rate_at(tr, 0.5) == 5 and rate_at(tr, 9.99) == 5 and rate_at(tr, 10.01) == 1 and rate_at(tr, 100) == 1
    assert tr.rtt_s == pytest.approx(0.04)


def test_jitter_is_seeded_and_keeps_the_mean():
    scn = parse_scenario(BASE.replace("rtt_ms = 40", "rtt_ms = 40\njitter = 0.3\nseed = 4"), "n.toml")
    a, b = link_trace(scn.links["oca-1"], 600), link_trace(scn.links["oca-1"], 600)
    assert a == b
    later = [rate_at(a, t + 0.5) for t in range(10, 600)]
    assert len(set(later)) > 100
    assert statistics.mean(later) == pytest.approx(1.0, rel=0.06)


def test_loss_like_stalls_are_windows_without_bytes():
    scn = parse_scenario(BASE.replace("rtt_ms = 40", "stall_every_s = 4\nstall_for_s = 0.5"), "n.toml")
    tr = link_trace(scn.links["oca-1"], 30)
    assert rate_at(tr, 4.2) == 0 and rate_at(tr, 4.6) == 5 and rate_at(tr, 12.3) == 0 and rate_at(tr, 12.7) == 1


def test_fault_points_continue_the_trace_from_a_moment():
    scn = parse_scenario(BASE, "n.toml")
    tr = link_trace(scn.links["oca-1"], 60)
    assert fault_points(tr, 0.0)[:2] == ((0.0, 5), (10.0, 1))
    assert fault_points(tr, 4.0)[:2] == ((0.0, 5), (6.0, 1))
    assert fault_points(tr, 20.0)[0] == (0.0, 1)


FAULTS = BASE + """
[[faults]]
oca = "oca-1"
at_s = 2
until_s = 6
down = true
[[faults]]
oca = "all"
at_s = 4
latency_ms = 100
error_rate = 0.5
error_status = 502
[[faults]]
oca = "serving"
at_s = 5
until_s = 7
stall_after_bytes = 1000
"""


def test_oca_state_combines_the_active_faults():
    scn = parse_scenario(FAULTS, "n.toml")
    assert oca_state(scn, "oca-1", 1).latency_ms == 40 and not oca_state(scn, "oca-1", 1).down
    s = oca_state(scn, "oca-1", 4.5)
    assert s.down and s.latency_ms == 140 and s.error_rate == 0.5 and s.error_status == 502
    assert not oca_state(scn, "oca-1", 6).down
    assert oca_state(scn, "oca-2", 5.5, {2: "oca-2"}).stall_after_bytes == 1000
    assert oca_state(scn, "oca-3", 5.5, {2: "oca-2"}).stall_after_bytes is None
    assert oca_state(scn, "oca-2", 5.5).stall_after_bytes is None  # "serving" not resolved yet
    assert change_times(scn) == [2, 4, 5, 6, 7]


def test_the_effective_link_is_the_best_oca_up_and_zero_when_all_are_down():
    text = BASE + """
[service]
ocas = 2
[network.ocas.oca-2]
mbps = 2
[[faults]]
oca = "oca-1"
at_s = 3
until_s = 5
down = true
[[faults]]
oca = "all"
at_s = 12
until_s = 14
down = true
"""
    scn = parse_scenario(text, "n.toml")
    tr = effective_trace(scn, 30)
    assert rate_at(tr, 1) == 5 and rate_at(tr, 4) == 2 and rate_at(tr, 6) == 5
    assert rate_at(tr, 11) == 2  # oca-1 dropped to 1, oca-2 holds 2
    assert rate_at(tr, 13) == 0 and rate_at(tr, 15) == 2
