"""QoE and the verdict (pure)."""

from __future__ import annotations

import pytest

from qa.metrics import compute_metrics, counted, qoe_lin, real_metrics, verdict
from qa.scenario import Thresholds


def test_qoe_lin_by_hand():
    # 1 + 2 + 2 Mbit/s, startup 0.5 s, stall 1 s, one switch of 1 Mbit/s
    assert qoe_lin([1000, 2000, 2000], 0.5, 1.0) == pytest.approx(5 - 4.3 * 1.5 - 1)


def test_metrics_and_verdict():
    m = compute_metrics([1000, 2000, 2000, 1000], startup_s=1.0, stall_s=2.0, stall_count=1, played_s=60)
    assert m.switches == 2 and m.switches_per_min == 2 and m.avg_bitrate_kbps == 1500
    assert m.rebuffer_ratio == pytest.approx(2 / 62)
    checks = {c.name: c.ok for c in verdict(m, Thresholds(max_rebuffer_ratio=0.05, max_startup_s=0.5,
                                                           min_avg_bitrate_kbps=1500, max_switches_per_min=1,
                                                           max_stalls=1))}
    assert checks == {"max_rebuffer_ratio": True, "max_startup_s": False, "min_avg_bitrate_kbps": True,
                      "max_switches_per_min": False, "max_stalls": True, "max_fatal_errors": True}


def test_a_segment_counts_only_once_it_has_really_played():
    assert counted([0, 2, 4, 6], 4.1) == [0, 1]
    assert counted([0, 2, 4, 6], 4.3) == [0, 1, 2]
    assert counted([10, 2, 4], 0.0) == [0]


def test_real_metrics_from_engine_events():
    events = [
        {"kind": "segment", "media": "video", "start_s": 0.0, "bitrate_kbps": 400.0, "t": 1},
        {"kind": "segment", "media": "video", "start_s": 2.0, "bitrate_kbps": 800.0, "t": 2},
        {"kind": "segment", "media": "video", "start_s": 4.0, "bitrate_kbps": 800.0, "t": 3},  # not played
        {"kind": "error", "recoverable": True, "t": 3},
        {"kind": "error", "recoverable": False, "t": 4},
    ]
    summary = {"startup_ms": 500, "stall_ms": 0, "stall_count": 0, "played_s": 4.0, "ok": False, "failovers": 2}
    m = real_metrics(events, summary, final_position_s=4.0)
    assert m.segments == 2 and m.startup_s == 0.5 and m.fatal_errors == 1 and m.failovers == 2
    assert m.qoe_lin == pytest.approx(0.4 + 0.8 - 4.3 * 0.5 - 0.4)
