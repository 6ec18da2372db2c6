"""Published peers, implemented from their papers / reference code, for side-by-side runs.

* :class:`ThroughputRule`: the highest rung under ``safety`` x the dual-EWMA throughput
  estimate (Sabre's throughput rule).
* :class:`Bba0`: BBA-0 as in Pensieve's ``bb.py`` (reservoir 5 s, cushion 10 s, the rung
  index is linear in the buffer between them).
* :class:`Bola`: BOLA-BASIC (Spiteri et al., INFOCOM'16; Sabre's ``Bola``): maximise
  ``(V (v_m + gamma) - Q) / S_m`` with ``v_m = ln(S_m / S_min)`` and V set so the top rung is
  chosen at ``buffer_target_s - segment``.
* :class:`RobustMpc`: RobustMPC (Yin et al., SIGCOMM'15), as Pensieve's ``mpc.py``: harmonic
  mean of the last 5 throughputs divided by ``1 + max`` of the last 5 relative prediction
  errors, exhaustive search over ``6^horizon`` rung sequences (vectorised with numpy, the
  same floating-point operations in the same order, ties to the last sequence as there).
  Two behaviours of that script are kept by default because the published reference numbers
  depend on them (``size_offset=1``: it plans with the sizes of the chunk after the one it
  requests; ``carry_errors``: its error history is a module global, so it survives from one
  session to the next, and results depend on the trace order, sorted by file name here).
  ``--param size_offset=0 --param carry_errors=false`` gives the textbook controller.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from abr.api import Decision, DecisionContext, DownloadSample
from abr.estimator import DualEwma
from abr.params import non_negative, param, positive


# ---------------------------------------------------------------- throughput

@dataclass(frozen=True)
class ThroughputParams:
    safety: float = param(0.9, "fraction of the estimated throughput a rung may use", lambda x: 0 < x <= 2, "0 < x <= 2")
    fast_half_life_s: float = param(3.0, "half-life of the fast EWMA (s of download time)", positive, "> 0")
    slow_half_life_s: float = param(8.0, "half-life of the slow EWMA (s of download time)", positive, "> 0")


class ThroughputRule:
    name = "throughput"
    Params = ThroughputParams

    def __init__(self, params: ThroughputParams | None = None) -> None:
        self.p = params or ThroughputParams()
        self.est = DualEwma(self.p.fast_half_life_s, self.p.slow_half_life_s, min_bytes=0)

    def reset(self) -> None:
        self.est.reset()

    def on_sample(self, sample: DownloadSample) -> None:
        if sample.finished:
            self.est.add(sample.nbytes, sample.seconds, sample.ttfb_s)

    def choose(self, ctx: DecisionContext) -> Decision:
        if self.est.samples == 0:
            return Decision(0, "no throughput sample yet: lowest rung")
        budget = self.est.bps * self.p.safety
        rung = 0
        for i, b in enumerate(ctx.ladder.bitrates_bps):
            if b <= budget:
                rung = i
        return Decision(rung, f"estimate {self.est.bps / 1e3:.0f} kbps x {self.p.safety}")

    def check_abandon(self, in_flight: DownloadSample, ctx: DecisionContext) -> Decision | None:
        return None


# ---------------------------------------------------------------- BBA-0

@dataclass(frozen=True)
class Bba0Params:
    reservoir_s: float = param(5.0, "below this buffer level the lowest rung", non_negative, ">= 0")
    cushion_s: float = param(10.0, "buffer span over which the rung index rises to the top", positive, "> 0")


class Bba0:
    name = "bba0"
    Params = Bba0Params

    def __init__(self, params: Bba0Params | None = None) -> None:
        self.p = params or Bba0Params()

    def reset(self) -> None:
        pass

    def on_sample(self, sample: DownloadSample) -> None:
        pass

    def choose(self, ctx: DecisionContext) -> Decision:
        top = ctx.ladder.top
        b, r, c = ctx.buffer_s, self.p.reservoir_s, self.p.cushion_s
        if b < r:
            return Decision(0, f"buffer {b:.1f}s below reservoir {r:g}s")
        if b >= r + c:
            return Decision(top, f"buffer {b:.1f}s above cushion")
        return Decision(int(top * (b - r) / float(c)), f"buffer {b:.1f}s in cushion")

    def check_abandon(self, in_flight: DownloadSample, ctx: DecisionContext) -> Decision | None:
        return None


# ---------------------------------------------------------------- BOLA

@dataclass(frozen=True)
class BolaParams:
    buffer_target_s: float = param(25.0, "buffer at which the top rung is chosen (Sabre's default 25 s)", positive, "> 0")
    gamma_p: float = param(5.0, "gamma*p: rebuffer aversion (Sabre's default 5)", positive, "> 0")


class Bola:
    name = "bola"
    Params = BolaParams

    def __init__(self, params: BolaParams | None = None) -> None:
        self.p = params or BolaParams()

    def reset(self) -> None:
        pass

    def on_sample(self, sample: DownloadSample) -> None:
        pass

    def choose(self, ctx: DecisionContext) -> Decision:
        rates = ctx.ladder.bitrates_bps
        util = [math.log(b / rates[0]) for b in rates]
        target = max(self.p.buffer_target_s - ctx.ladder.segment_seconds, ctx.ladder.segment_seconds)
        v = target / (util[-1] + self.p.gamma_p)
        best, score = 0, -math.inf
        for q, b in enumerate(rates):
            s = (v * (util[q] + self.p.gamma_p) - ctx.buffer_s) / b
            if s > score:
                best, score = q, s
        return Decision(best, f"BOLA score at buffer {ctx.buffer_s:.1f}s")

    def check_abandon(self, in_flight: DownloadSample, ctx: DecisionContext) -> Decision | None:
        return None


# ---------------------------------------------------------------- RobustMPC

@dataclass(frozen=True)
class MpcParams:
    horizon: int = param(5, "number of future chunks planned", lambda x: 1 <= x <= 6, "1..6")
    window: int = param(5, "throughput samples in the harmonic mean and errors in the max", lambda x: x >= 1, ">= 1")
    robust: bool = param(True, "divide the prediction by 1 + max recent error (RobustMPC); false: FastMPC")
    rebuf_penalty: float = param(4.3, "QoE penalty per second of stall", non_negative, ">= 0")
    size_offset: int = param(1, "plan with the sizes of segment index+offset+position; Pensieve's mpc.py uses "
                             "1 (it looks one chunk ahead of the one requested), 0 is the intended value",
                             lambda x: x in (0, 1), "0 or 1")
    carry_errors: bool = param(True, "keep the prediction-error history across reset() as Pensieve's mpc.py "
                               "does with its module-level lists (the harmonic-mean window is still reset); "
                               "false is the textbook per-session behaviour")


class RobustMpc:
    name = "robustmpc"
    Params = MpcParams

    def __init__(self, params: MpcParams | None = None) -> None:
        self.p = params or MpcParams()
        self._combos: dict[int, np.ndarray] = {}
        self._static: dict[tuple[int, int, tuple[float, ...]], tuple[np.ndarray, np.ndarray]] = {}
        self.reset()

    def reset(self) -> None:
        self._tput: list[float] = []  # MB/s, bytes over the whole delay (RTT included)
        if not self.p.carry_errors or not hasattr(self, "_errors"):
            self._errors: list[float] = []
            self._ests: list[float] = []

    def on_sample(self, sample: DownloadSample) -> None:
        if not sample.finished or sample.seconds <= 0:
            return
        tput = float(sample.nbytes) / (sample.seconds * 1000.0) / 1000.0
        err = abs(self._ests[-1] - tput) / tput if self._ests else 0.0
        self._tput.append(tput)
        self._errors.append(err)
        w = self.p.window
        recent = self._tput[-w:]
        harmonic = 1.0 / (sum(1.0 / x for x in recent) / len(recent))
        self._ests.append(harmonic)

    def _combo_table(self, length: int) -> np.ndarray:
        if length not in self._combos:
            self._combos[length] = np.array(list(itertools.product(range(self.n_rungs), repeat=length)), dtype=np.int64)
        return self._combos[length]

    def _static_terms(self, length: int, last: int, kbps: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        key = (length, last, kbps)
        if key not in self._static:
            combos = self._combo_table(length)
            rates = np.array(kbps)
            bitrate_sum = rates[combos].sum(axis=1)
            prev = np.concatenate([np.full((len(combos), 1), last), combos[:, :-1]], axis=1)
            smooth = np.abs(rates[combos] - rates[prev]).sum(axis=1)
            self._static[key] = (bitrate_sum, smooth)
        return self._static[key]

    def choose(self, ctx: DecisionContext) -> Decision:
        ladder = ctx.ladder
        self.n_rungs = len(ladder.bitrates_bps)
        last = ctx.current_rung if ctx.current_rung is not None else 0
        if not self._tput:
            return Decision(last, "no throughput sample yet: keep the rung")
        harmonic = self._ests[-1]
        max_error = max(self._errors[-self.p.window:]) if self.p.robust else 0.0
        future = harmonic / (1 + max_error)
        remaining = ladder.remaining(ctx.segment_index)
        length = self.p.horizon if remaining is None else min(self.p.horizon, remaining)
        if length <= 0:
            return Decision(0, "no chunk left")
        combos = self._combo_table(length)
        kbps = tuple(b / 1000.0 for b in ladder.bitrates_bps)
        bitrate_sum, smooth = self._static_terms(length, last, kbps)
        seg = ladder.segment_seconds
        rebuf = np.zeros(len(combos))
        buf = np.full(len(combos), float(ctx.buffer_s))
        for pos in range(length):
            index = ctx.segment_index + pos + self.p.size_offset
            sizes = np.array([ladder.size(q, index) for q in range(self.n_rungs)])
            dt = (sizes / 1000000.0)[combos[:, pos]] / future
            short = buf < dt
            rebuf = np.where(short, rebuf + (dt - buf), rebuf)
            buf = np.where(short, 0.0, buf - dt) + seg
        reward = (bitrate_sum / 1000.0 - self.p.rebuf_penalty * rebuf) - smooth / 1000.0
        best = len(reward) - 1 - int(np.argmax(reward[::-1]))
        rung = int(combos[best, 0])
        return Decision(rung, f"MPC plan {tuple(int(x) for x in combos[best])} at {future * 8:.2f} Mbit/s "
                              f"(harmonic {harmonic * 8:.2f}, error {max_error:.2f})")

    def check_abandon(self, in_flight: DownloadSample, ctx: DecisionContext) -> Decision | None:
        return None
