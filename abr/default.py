"""Marquee's default controller: buffer-based rate map with hysteresis ("bbh").

The buffer drives the steady state, as in BBA (Huang et al., SIGCOMM'14):

* **Rate map** (BBA-1): below the *reservoir* the lowest rung; across the *cushion* the
  allowed segment size rises linearly from the lowest rung's mean size to the top rung's; above
  ``reservoir + cushion`` (the *upper reservoir*, up to the buffer cap) the top rung. The map
  is read with the actual size of the next segment at each rung when the ladder lists sizes,
  so a large (complex) segment needs more buffer than a small one.
* **End of presentation**: buffer that is still in the player when the last segment arrives is
  bandwidth that was never turned into quality, so the map's two points shrink with the
  content left: ``reservoir = min(reservoir_s, end_reservoir * left_s)`` and
  ``top = min(reservoir_s + cushion_s, end_top * left_s)``. Near the end the same buffer
  maps to a higher rung (the buffer is spent instead of being kept). **Downside risk**: both
  factors are multiplied by ``1 + risk_k * CV``, CV the coefficient of variation of the last
  ``risk_window`` throughput samples, so a volatile link (3G/HSDPA outages) keeps more of its
  buffer until the end, while a steady one (cable, FCC) spends it as before; a stall costs the
  same whether or not the content is nearly over.
* **Hysteresis**: an up-switch needs the map (or the throughput ramp below) to point higher
  for ``up_confirm`` decisions in a row, ``min_dwell_s`` of content at the current rung, and
  buffer credit: ``headroom_segments`` segments at the new rung, at the estimate, keep the
  buffer above that rung's down-switch point; a rung the buffer forced us off is not retried
  until the estimate grew by ``retry_gain`` (no oscillation on steady throughput). The
  throughput ramp: when the buffer grew, the highest rung with estimate >= ``ramp_ratio`` x
  its bit rate is an up-switch candidate (still subject to the credit test). A down-switch is
  immediate once the map points ``down_band`` rungs or more below the current one; at or below
  the reservoir the answer is always the lowest rung.
* **Safety cap** (throughput only caps, never raises): the chosen segment's predicted
  download time may not drain the buffer below ``reservoir + cap_keep * (buffer -
  reservoir)``, unless that forces the lowest rung anyway.
* **Startup ramp** (BBA-2): until the map points above the current rung, the buffer fell by
  more than ``startup_slack_s`` over a download, or the throughput stopped supporting the
  current rung, the rung is the highest one that is *sustainable* (safe estimate >=
  ``startup_ratio`` x its segment's bit rate) and *survivable* (its segment would still arrive
  before the buffer runs dry if the throughput fell to estimate / ``startup_drop``), climbing at
  most ``startup_step`` rungs per segment (the buffer alone would keep the lowest rungs for
  long). When the ramp ends above the map, a *virtual buffer* (BOLA-E's placeholder) is added
  to the real one when reading the map, so the map continues from the ramp's rung instead of
  dropping; it leaks ``virtual_leak_s`` per segment, loses ``virtual_drain`` x any fall of the
  real buffer, and shrinks whenever the safety cap lowers a rung. The reservoir rule reads the
  real buffer only. The ramp climbs to rung ``r`` only with ``ramp_hold x r/top`` of the reservoir
  buffered, and when it ends under the reservoir it leaves one rung per decision while the rung
  below is sustained and survivable (``ramp_exit``), instead of the reservoir's drop to the bottom.
* **Start rule** (``ready_to_start``, ``abr/start.py``): playback begins once the buffer covers the
  predicted fetch time of the segment in flight (and the lowest rung's deficit over
  ``start_horizon_s``); the first segment's rung, and the rungs fetched before playback begins,
  are worth their bit rate against the startup they add (``stall_cost`` per second).
* **Reasons**: the rules run in order on one :class:`~abr.compose.Verdict`; the logged reason
  names the rule whose output is the decided rung (a cap that lowers it writes its own).
* **End-of-presentation spending**: with at most ``spend_horizon_s`` of content left, a rung
  whose nominal segments, fetched at the safe estimate until the end, drain at most
  ``spend_share`` of the buffer above the reservoir is an up-switch target (past the credit
  test) and is not left for the map: buffer left at the end was bandwidth never turned into
  quality.
* **Abandonment**: a download in flight is abandoned when, at the rate it is currently
  receiving, it would finish more than ``abandon_margin_s`` after the buffer runs dry and a
  lower rung would still make it in time; it is refetched at the highest rung that does.

Bandwidth: a dual EWMA (fast/slow half-lives in seconds of transfer time or in downloads, the
lower wins, time to first byte removed). Parameter values and how they were chosen:
``abr/TUNING.md``.
"""

from __future__ import annotations

from abr.api import Decision, DecisionContext, DownloadSample, Ladder, StartVerdict
from abr.compose import Step, Verdict
from abr.estimator import DualEwma, Variability
from abr.default_params import DefaultParams

__all__ = ["BufferHysteresis", "DefaultParams", "projected_stall_s"]
from abr.start import best_start_rung, needed_buffer_s


def projected_stall_s(in_flight: DownloadSample, total_bytes: float, buffer_s: float, rate_bps: float) -> float:
    """Seconds of stall if the in-flight download continues at ``rate_bps`` (0 if none)."""
    left = max(total_bytes - in_flight.nbytes, 0.0)
    return max(left * 8.0 / max(rate_bps, 1.0) - buffer_s, 0.0)


class BufferHysteresis:
    name = "default"
    Params = DefaultParams

    def __init__(self, params: DefaultParams | None = None) -> None:
        self.p = params or DefaultParams()
        self.est = DualEwma(self.p.fast_half_life, self.p.slow_half_life, self.p.min_sample_bytes,
                            self.p.bandwidth_guess_bps, per_sample=self.p.half_life_unit == "downloads")
        self.quick = DualEwma(1.0, 1.0, self.p.min_sample_bytes, self.p.bandwidth_guess_bps, per_sample=True)
        self.var = Variability(self.p.risk_window, self.p.min_sample_bytes)
        self.reset()

    def reset(self) -> None:
        self.est.reset()
        self.quick.reset()
        self.var.reset()
        self._dwell_rung: int | None = None
        self._dwell_s = 0.0
        self._up_streak = 0
        self._ramping = True
        self._ceiling: tuple[int, float] | None = None  # (rung the buffer forced us off, estimate then)
        self._entry_buffer: float | None = None
        self._prev_buffer: float | None = None
        self._now_buffer = 0.0
        self._last_buffer: float | None = None
        self._grew = True
        self._virtual = 0.0  # s of virtual buffer added to the real one when reading the map
        self._ramp_last: float | None = None
        self._last_seen: float | None = None
        self._exiting = False  # the ramp ended above the map under the reservoir: leave it one rung at a time
        self.last_steps: list[Step] = []  # the rules of the last decision, in order (tests, QA)

    # ------------------------------------------------------------ observations
    def on_sample(self, sample: DownloadSample) -> None:
        self.est.add(sample.nbytes, sample.seconds, sample.ttfb_s)
        self.quick.add(sample.nbytes, sample.seconds, sample.ttfb_s)
        self.var.add(sample.nbytes, sample.seconds, sample.ttfb_s)

    def _headroom_bps(self) -> float:
        if self.p.headroom_from == "fast":
            return max(self.est.bps, self.quick.bps)
        return self.est.bps

    @property
    def end_risk(self) -> float:
        """``1 + risk_k * CV`` of recent throughput: how much later a volatile link starts spending its buffer."""
        return 1.0 + self.p.risk_k * self.var.cv

    # ------------------------------------------------------------ map
    def _thresholds(self, ctx: DecisionContext) -> tuple[float, float]:
        p = self.p
        res, top = p.reservoir_s, p.reservoir_s + p.cushion_s
        left = ctx.ladder.remaining(ctx.segment_index)
        if left is not None:
            left_s = left * ctx.ladder.segment_seconds
            risk = self.end_risk
            res = min(res, p.end_reservoir * risk * left_s)
            top = min(top, max(p.end_top * risk * left_s, res + 1e-3))
        return res, top

    def _map_rung(self, ctx: DecisionContext, res: float, top: float, b: float) -> tuple[int, float]:
        """Rung the map gives for buffer ``b`` (real plus virtual), and the segment size it allows."""
        ladder = ctx.ladder
        lo = ladder.bitrates_bps[0] * ladder.segment_seconds / 8.0
        hi = ladder.bitrates_bps[-1] * ladder.segment_seconds / 8.0
        if b <= res:
            return 0, lo
        if b >= top:
            return ladder.top, hi
        allowed = lo + (hi - lo) * (b - res) / (top - res)
        rung = 0
        for q in range(ladder.top + 1):
            if self._nominal_or_size(ladder, q, ctx.segment_index) <= allowed:
                rung = q
        return rung, allowed

    def _buffer_for(self, ctx: DecisionContext, rung: int, res: float, top: float) -> float:
        """The lowest buffer at which the map gives ``rung`` (for the next segment's size)."""
        ladder = ctx.ladder
        if rung <= 0:
            return 0.0
        lo = ladder.bitrates_bps[0] * ladder.segment_seconds / 8.0
        hi = ladder.bitrates_bps[-1] * ladder.segment_seconds / 8.0
        frac = (ladder.size(rung, ctx.segment_index) - lo) / (hi - lo) if hi > lo else 1.0
        return res + (top - res) * min(max(frac, 0.0), 1.0) + 1e-6

    def _spend_rung(self, ctx: DecisionContext, b: float, res: float) -> int:
        """End-of-presentation spending: the highest rung whose nominal segments, fetched at the safe estimate
        until the end, drain at most ``spend_share`` of the buffer above the reservoir (-1: not applicable)."""
        p = self.p
        ladder = ctx.ladder
        left = ladder.remaining(ctx.segment_index)
        if p.spend_horizon_s <= 0 or left is None or left * ladder.segment_seconds > p.spend_horizon_s:
            return -1
        if self.est.samples == 0 or b <= res:
            return -1
        bps = self.est.bps
        budget = p.spend_share * (b - res)
        for r in range(ladder.top, -1, -1):
            t = self.est.ttfb_s + ladder.bitrates_bps[r] * ladder.segment_seconds / bps
            if left * (t - ladder.segment_seconds) <= budget:
                return r
        return -1

    def _credit_rung(self, ctx: DecisionContext, b: float) -> int:
        """Startup credit: the highest rung the safe estimate sustains (``startup_ratio``) and survives
        (its segment arrives before the buffer runs dry at estimate / ``startup_drop``)."""
        p = self.p
        ladder = ctx.ladder
        bps = self.est.bps
        best = 0
        for r in range(ladder.top + 1):
            bits = ladder.size(r, ctx.segment_index) * 8.0
            if bps < p.startup_ratio * bits / ladder.segment_seconds:
                break
            if p.startup_drop > 0 and self.est.ttfb_s + bits * p.startup_drop / bps > b:
                break
            best = r
        return best

    @staticmethod
    def _nominal_or_size(ladder: Ladder, rung: int, index: int) -> float:
        return ladder.size(rung, index)

    def _predict(self, ladder: Ladder, rung: int, index: int) -> float:
        return self.est.predict_seconds(ladder.size(rung, index))

    # ------------------------------------------------------------ decision
    @property
    def in_startup(self) -> bool:
        """True while the startup ramp may still override the rate map."""
        return self._ramping

    def choose(self, ctx: DecisionContext) -> Decision:
        verdict = Verdict()
        self._decide(ctx, verdict)
        if ctx.startup and self.p.start_rule and ctx.current_rung is not None and self.est.samples > 0:
            best = best_start_rung(ctx.ladder, ctx.segment_index, ctx.buffer_s, self.est.bps, self.est.ttfb_s,
                                   self.p.stall_cost, verdict.rung)
            verdict.limit("start rule", best, f"playback not begun; rung {best} is worth the startup it adds "
                          f"(estimate {self.est.bps / 1e3:.0f} kbps, buffer {ctx.buffer_s:.1f}s)")
        self.last_steps = verdict.steps
        return self._commit(verdict.decision(), ctx.current_rung)

    def _decide(self, ctx: DecisionContext, v: Verdict) -> None:
        """Run the rules in order on ``v``; each writes its own reason."""
        p = self.p
        ladder = ctx.ladder
        cur = ctx.current_rung
        b = ctx.buffer_s
        grew = self._last_buffer is None or b > self._last_buffer
        self._last_buffer = b
        have_est = self.est.samples > 0

        if cur is None:
            if p.start_rule:
                r = best_start_rung(ladder, ctx.segment_index, 0.0, self.est.bps, self.est.ttfb_s, p.stall_cost,
                                    ladder.top)
                v.set("first segment", r, f"rung {r} is worth the startup it costs at {self.est.bps / 1e3:.0f} kbps")
            else:
                v.set("first segment", 0, "lowest rung")
            return
        if cur == self._dwell_rung:
            self._dwell_s += ladder.segment_seconds
        else:
            self._dwell_rung, self._dwell_s = cur, ladder.segment_seconds
            self._entry_buffer = self._prev_buffer  # buffer when ``cur`` was chosen (None: not by us)
        self._prev_buffer = b
        self._now_buffer = b

        res, top = self._thresholds(ctx)
        if self._ramping:
            credit = self._credit_rung(ctx, b) if have_est else cur
            mapped, _ = self._map_rung(ctx, res, top, b)
            fell = self._ramp_last is not None and b < self._ramp_last - p.startup_slack_s
            self._ramp_last = b
            if mapped > cur or fell or credit < cur:
                self._ramping = False
                self._exiting = p.ramp_exit == "step" and cur > 0
                if mapped < cur:
                    # Keep the map at the ramp's rung: a virtual buffer (BOLA-E's placeholder) fills the gap
                    # and leaks away; real buffer lost on the way is taken from it too.
                    self._virtual = max(self._buffer_for(ctx, cur, res, top) - b, 0.0)
            else:
                # Startup ramp (BBA-2): faster than the map while throughput supports it.
                held = self._hold_rung(ctx, b, res)
                target = min(max(credit, cur), cur + p.startup_step, held)
                why = (f"; rung {held + 1} needs more of the reservoir than the buffer {b:.1f}s holds"
                       if held < min(credit, cur + p.startup_step) else "")
                if target > cur:
                    v.set("startup ramp", target, f"estimate {self.est.bps / 1e3:.0f} kbps sustains and survives "
                          f"rung {target}{why}")
                else:
                    v.set("startup ramp", cur, f"holding at {cur} (estimate {self.est.bps / 1e3:.0f} kbps){why}")
                self._safety_cap(ctx, v, res, top)
                return
        else:
            drop = max((self._last_seen if self._last_seen is not None else b) - b, 0.0)
            self._virtual = max(self._virtual - p.virtual_leak_s - p.virtual_drain * drop, 0.0)
        self._last_seen = b
        eff = b + self._virtual
        mapped, _ = self._map_rung(ctx, res, top, eff)

        if b <= res:
            self._up_streak = 0
            credit = self._credit_rung(ctx, b) if self._exiting and cur > 0 and have_est else -1
            if credit >= cur - 1 >= 0:
                # Leaving the ramp under the reservoir: one rung at a time while the rung below is still
                # sustained and survivable (else the reservoir's lowest rung); the safety cap still guards.
                v.set("ramp exit", cur - 1, f"buffer {b:.1f}s under the reservoir {res:.1f}s after the ramp: "
                      f"down one rung (estimate {self.est.bps / 1e3:.0f} kbps sustains rung {credit})")
                self._safety_cap(ctx, v, res, top)
                return
            v.set("reservoir", 0, f"buffer {b:.1f}s at/below reservoir {res:.1f}s: lowest rung")
            return
        self._exiting = False

        spend = self._spend_rung(ctx, b, res)
        if mapped <= cur - p.down_band and spend < cur:
            self._up_streak = 0
            v.set("map", mapped, f"buffer {eff:.1f}s maps to rung {mapped} < {cur}: down")
            self._safety_cap(ctx, v, res, top)
            return
        ramp_to = cur
        if p.ramp_ratio > 0 and grew and have_est:
            bps = self._headroom_bps()
            while (ramp_to < ladder.top and bps >= p.ramp_ratio * ladder.size(ramp_to + 1, ctx.segment_index) * 8
                   / ladder.segment_seconds):
                ramp_to += 1
        if mapped > cur or ramp_to > cur or spend > cur:
            self._up_streak += 1
            target = min(max(mapped, ramp_to), cur + p.max_up_step)
            while target > cur and not (have_est and self._headroom_ok(ctx, target, res, top, eff)):
                target -= 1
            spent = min(spend, cur + p.max_up_step)
            if target > cur and self._up_streak >= p.up_confirm and self._dwell_s >= p.min_dwell_s:
                self._up_streak = 0
                if self._ceiling is not None and max(target, spent) >= self._ceiling[0]:
                    self._ceiling = None
                if spent > target:
                    v.set("end spending", spent, f"{ctx.ladder.remaining(ctx.segment_index)} segments left: "
                          f"rung {spent} drains at most {p.spend_share:.0%} of the buffer above the reservoir")
                else:
                    rule = "map" if mapped >= target else "throughput ramp"
                    v.set(rule, target, f"buffer {eff:.1f}s maps to rung {mapped}, estimate "
                          f"{self.est.bps / 1e3:.0f} kbps: up to {target}")
            elif spent > cur and self._up_streak >= p.up_confirm and self._dwell_s >= p.min_dwell_s:
                self._up_streak = 0
                if self._ceiling is not None and spent >= self._ceiling[0]:
                    self._ceiling = None
                v.set("end spending", spent, f"{ctx.ladder.remaining(ctx.segment_index)} segments left: "
                      f"rung {spent} drains at most {p.spend_share:.0%} of the buffer above the reservoir")
            else:
                v.set("hold", cur, f"at {cur}: up to {max(target, spent, mapped)} not yet confirmed")
            self._safety_cap(ctx, v, res, top)
            return
        self._up_streak = 0
        v.set("hold", cur, f"at {cur}: buffer {eff:.1f}s maps to rung {mapped}")
        self._safety_cap(ctx, v, res, top)

    def _hold_rung(self, ctx: DecisionContext, b: float, res: float) -> int:
        """The highest rung the startup ramp may climb to with buffer ``b``: rung ``r`` needs ``ramp_hold x
        r/top`` of the reservoir, so that a ramp that ends finds the buffer to leave it one rung at a time."""
        top = ctx.ladder.top
        if self.p.ramp_hold <= 0 or top == 0:
            return top
        per_rung = self.p.ramp_hold * res / top
        return top if per_rung <= 0 else min(top, int(b / per_rung + 1e-9))

    def _down_point(self, ctx: DecisionContext, rung: int, res: float, top: float) -> float:
        """Buffer level below which the map would take ``rung`` down (given down_band)."""
        q = rung - self.p.down_band + 1
        if q <= 0:
            return res
        ladder = ctx.ladder
        lo = ladder.bitrates_bps[0] * ladder.segment_seconds / 8.0
        hi = ladder.bitrates_bps[-1] * ladder.segment_seconds / 8.0
        frac = (ladder.size(q, ctx.segment_index) - lo) / (hi - lo) if hi > lo else 1.0
        return res + (top - res) * min(max(frac, 0.0), 1.0)

    def _headroom_ok(self, ctx: DecisionContext, rung: int, res: float, top: float, eff: float) -> bool:
        """Throughput headroom: at the estimate, ``headroom_segments`` segments at ``rung`` keep the buffer
        above that rung's down-switch point (and, if ``up_safety`` > 0, the estimate covers the bit rate)."""
        ladder = ctx.ladder
        bps = self._headroom_bps()
        if self.p.up_safety > 0 and bps * self.p.up_safety < ladder.size(rung, ctx.segment_index) * 8 / ladder.segment_seconds:
            return False
        t = self.est.ttfb_s + ladder.size(rung, ctx.segment_index) * 8.0 / bps
        if self._ceiling is not None and rung >= self._ceiling[0]:
            # Judged on the nominal bit rate: one small (VBR) segment must not reopen the rung.
            t_nominal = self.est.ttfb_s + ladder.bitrates_bps[rung] * ladder.segment_seconds / bps
            if t_nominal > ladder.segment_seconds and bps < self._ceiling[1] * (1.0 + self.p.retry_gain):
                return False  # this rung failed at about this throughput: do not oscillate
        after = eff + self.p.headroom_segments * (ladder.segment_seconds - t)
        return after >= self._down_point(ctx, rung, res, top)

    def _cap(self, ctx: DecisionContext, rung: int, res: float) -> int:
        """Throughput safety cap: lower the rung while its download would drain the buffer too far."""
        if self.est.samples == 0:
            return rung
        b = ctx.buffer_s
        budget = max(b - (res + self.p.cap_keep * max(b - res, 0.0)), 0.0) + ctx.ladder.segment_seconds
        while rung > 0 and self._predict(ctx.ladder, rung, ctx.segment_index) > budget:
            rung -= 1
        return rung

    def _safety_cap(self, ctx: DecisionContext, v: Verdict, res: float, top: float) -> None:
        """The safety cap on ``v``; when it lowers the rung, the virtual buffer shrinks to what the map needs
        for the capped rung (the map must not point back up on virtual buffer alone)."""
        wanted = v.rung
        capped = self._cap(ctx, wanted, res)
        if capped < wanted:
            t = self._predict(ctx.ladder, wanted, ctx.segment_index)
            v.limit("safety cap", capped, f"rung {wanted} would take {t:.1f}s at {self.est.bps / 1e3:.0f} kbps, "
                    f"more than the buffer {ctx.buffer_s:.1f}s can give: rung {capped}")
            if self._virtual > 0:
                self._virtual = min(self._virtual, max(self._buffer_for(ctx, capped, res, top) - ctx.buffer_s, 0.0))

    def _commit(self, decision: Decision, cur: int | None) -> Decision:
        rung = decision.rung
        failed = self._entry_buffer is not None and self._now_buffer < self._entry_buffer
        if cur is not None and rung < cur and self.est.samples > 0 and failed:
            # ``cur`` drained the buffer and is now left: remember at what throughput it failed.
            if self._ceiling is None or cur <= self._ceiling[0]:
                self._ceiling = (cur, self._headroom_bps())
        return decision

    # ------------------------------------------------------------ start rule
    def ready_to_start(self, ctx: DecisionContext, in_flight: DownloadSample | None) -> StartVerdict:
        """Begin playback once the buffer covers the predicted fetch time (``abr/start.py``)."""
        if not self.p.start_rule or in_flight is None:
            return StartVerdict(True, "start rule off" if not self.p.start_rule else "nothing left to fetch")
        if self.est.samples == 0:
            return StartVerdict(False, "no throughput measured yet")
        total = ctx.ladder.size(in_flight.rung, ctx.segment_index)
        need = needed_buffer_s(ctx.ladder, ctx.segment_index, total, in_flight, self.est.bps, self.est.ttfb_s,
                               self.p.start_horizon_s)
        if ctx.buffer_s >= need:
            return StartVerdict(True, f"buffer {ctx.buffer_s:.1f}s covers the predicted {need:.1f}s of fetching")
        return StartVerdict(False, f"buffer {ctx.buffer_s:.1f}s < the predicted {need:.1f}s of fetching")

    # ------------------------------------------------------------ abandonment
    def check_abandon(self, in_flight: DownloadSample, ctx: DecisionContext) -> Decision | None:
        p = self.p
        if not p.abandon or in_flight.finished or in_flight.rung <= 0:
            return None
        if in_flight.seconds < max(p.abandon_min_elapsed_s, in_flight.ttfb_s):
            return None
        ladder = ctx.ladder
        transfer = max(in_flight.seconds - in_flight.ttfb_s, 1e-3)
        rate = in_flight.nbytes * 8.0 / transfer if in_flight.nbytes > 0 else 0.0
        total = ladder.size(in_flight.rung, ctx.segment_index)
        stall = projected_stall_s(in_flight, total, ctx.buffer_s, rate)
        if stall <= p.abandon_margin_s:
            return None
        # Refetch lower: the highest rung that fits in the buffer at the observed rate (with a new RTT).
        ttfb = max(in_flight.ttfb_s, self.est.ttfb_s)
        finish_now = stall + ctx.buffer_s
        for q in range(in_flight.rung - 1, -1, -1):
            t = ttfb + ladder.size(q, ctx.segment_index) * 8.0 / max(rate, 1.0)
            if t <= ctx.buffer_s or q == 0:
                if t >= finish_now:
                    return None  # refetching would not be any faster
                return Decision(q, f"in flight at {rate / 1e3:.0f} kbps would stall {stall:.1f}s: refetch rung {q}",
                                abandon=True)
        return None
