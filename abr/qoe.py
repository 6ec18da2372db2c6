"""QoE metrics of a simulated session (Pensieve's definitions) and their aggregation.

Per scored chunk k with bitrate R_k (Mbit/s) and stall T_k (s):

* QoE_lin: ``R_k - 4.3 T_k - |R_k - R_{k-1}|``
* QoE_log: ``q(R) = ln(R / R_min)``, ``q(R_k) - 2.66 T_k - |q(R_k) - q(R_{k-1})|``
* QoE_hd: ``q`` maps 300, 750, 1200, 1850, 2850, 4300 kbps to 1, 2, 3, 12, 15, 20 (linear in
  between, clamped outside), rebuffer penalty 8.

The switch term of the first scored chunk uses the chunk before it (in standard mode, the
0 -> 1 switch counts); in realistic mode chunk 0 has no switch term, and the wait before playback
begins (``startup_s``) costs as much per second as a stall (4.3, 2.66, 8: as ``qa/metrics.py``
counts a real run); ``rebuffer_s`` counts stalls after playback began only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from abr.sim import SessionResult

HD_KBPS = (300.0, 750.0, 1200.0, 1850.0, 2850.0, 4300.0)
HD_SCORE = (1.0, 2.0, 3.0, 12.0, 15.0, 20.0)
STALL_LIN = 4.3  # QoE_lin cost of a second of stall (and of startup wait in realistic mode)


def _hd(kbps: float) -> float:
    return float(np.interp(kbps, HD_KBPS, HD_SCORE))


@dataclass(frozen=True)
class SessionMetrics:
    trace: str
    qoe_lin: float
    qoe_log: float
    qoe_hd: float
    rebuffer_s: float
    rebuffer_ratio: float
    startup_s: float
    bitrate_kbps: float
    switches: int
    switch_kbps: float  # mean size of a switch
    abandons: int
    chunks: int

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def session_metrics(res: SessionResult) -> SessionMetrics:
    kbps = [res.bitrates_kbps[r] for r in res.rungs]
    start = res.scored_from
    rmin = res.bitrates_kbps[0]
    lin = log = hd = 0.0
    switches = 0
    switch_sum = 0.0
    for k in range(start, len(kbps)):
        b = kbps[k]
        stall = res.stall_s[k]
        lin += b / 1000.0 - STALL_LIN * stall
        log += math.log(b / rmin) - 2.66 * stall
        hd += _hd(b) - 8.0 * stall
        if k > 0:
            p = kbps[k - 1]
            lin -= abs(b - p) / 1000.0
            log -= abs(math.log(b / rmin) - math.log(p / rmin))
            hd -= abs(_hd(b) - _hd(p))
            if b != p:
                switches += 1
                switch_sum += abs(b - p)
    if res.started_s is not None:  # realistic mode: the wait before the first frame, weighed as a stall
        lin -= STALL_LIN * res.started_s
        log -= 2.66 * res.started_s
        hd -= 8.0 * res.started_s
    scored = len(kbps) - start
    rebuf = sum(res.stall_s[start:])
    content_s = scored * res.segment_seconds
    return SessionMetrics(
        trace=res.trace,
        qoe_lin=lin,
        qoe_log=log,
        qoe_hd=hd,
        rebuffer_s=rebuf,
        rebuffer_ratio=rebuf / (content_s + rebuf) if content_s + rebuf > 0 else 0.0,
        startup_s=res.startup_s,
        bitrate_kbps=sum(kbps[start:]) / scored if scored else 0.0,
        switches=switches,
        switch_kbps=switch_sum / switches if switches else 0.0,
        abandons=res.abandons,
        chunks=len(kbps),
    )


@dataclass(frozen=True)
class Summary:
    algo: str
    traces: str
    mode: str
    sessions: int
    qoe_lin_mean: float
    qoe_lin_p10: float
    qoe_log_mean: float
    qoe_hd_mean: float
    rebuffer_s_mean: float
    rebuffer_ratio_mean: float
    bitrate_kbps_mean: float
    switches_mean: float
    switch_kbps_mean: float
    startup_s_mean: float
    abandons_mean: float

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def summarize(algo: str, traces: str, mode: str, metrics: list[SessionMetrics]) -> Summary:
    def mean(attr: str) -> float:
        return float(np.mean([getattr(m, attr) for m in metrics])) if metrics else 0.0

    lin = [m.qoe_lin for m in metrics]
    return Summary(
        algo=algo, traces=traces, mode=mode, sessions=len(metrics),
        qoe_lin_mean=mean("qoe_lin"),
        qoe_lin_p10=float(np.percentile(lin, 10)) if lin else 0.0,
        qoe_log_mean=mean("qoe_log"), qoe_hd_mean=mean("qoe_hd"),
        rebuffer_s_mean=mean("rebuffer_s"), rebuffer_ratio_mean=mean("rebuffer_ratio"),
        bitrate_kbps_mean=mean("bitrate_kbps"), switches_mean=mean("switches"),
        switch_kbps_mean=mean("switch_kbps"), startup_s_mean=mean("startup_s"),
        abandons_mean=mean("abandons"),
    )
