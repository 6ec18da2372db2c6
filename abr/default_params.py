"""Parameters of the default controller (``abr/default.py``); how the values were chosen: ``abr/TUNING.md``."""

from __future__ import annotations

from dataclasses import dataclass

from abr.params import non_negative, param, positive, unit_interval


@dataclass(frozen=True)
class DefaultParams:
    reservoir_s: float = param(6.0, "buffer (s) at or below which the lowest rung is always chosen", non_negative, ">= 0")
    cushion_s: float = param(38.0, "buffer span (s) over which the rate map climbs from the lowest to the top rung; "
                             "above reservoir+cushion is the upper reservoir (top rung)", positive, "> 0")
    end_reservoir: float = param(0.15, "near the end, reservoir = min(reservoir_s, end_reservoir * content left)",
                                 non_negative, ">= 0")
    end_top: float = param(0.2, "near the end, the map tops out at min(reservoir+cushion, end_top * content left)",
                           positive, "> 0")
    up_confirm: int = param(3, "consecutive decisions the map must point higher before an up-switch",
                            lambda x: x >= 1, ">= 1")
    min_dwell_s: float = param(0.0, "content (s) fetched at a rung before an up-switch is allowed", non_negative, ">= 0")
    up_safety: float = param(0.0, "if > 0, an up-switch also needs estimate * up_safety >= the new segment's bit "
                             "rate", lambda x: 0 <= x <= 4, "0 <= x <= 4")
    headroom_segments: float = param(20.0, "an up-switch needs the buffer to stay above the new rung's down-switch "
                                     "point after this many segments at the estimated throughput", non_negative, ">= 0")
    retry_gain: float = param(0.05, "after the buffer forced a rung down, climbing back to it needs the estimate to "
                              "have grown by this fraction since (or to cover the rung's bit rate): no "
                              "oscillation on steady throughput", non_negative, ">= 0")
    max_up_step: int = param(2, "rungs climbed at most per up-switch", lambda x: x >= 1, ">= 1")
    down_band: int = param(3, "a down-switch happens when the map points this many rungs below the current one",
                           lambda x: x >= 1, ">= 1")
    cap_keep: float = param(0.6, "safety cap: a segment may drain the buffer to reservoir + cap_keep*(buffer-reservoir)",
                            lambda x: 0 <= x < 1, "0 <= x < 1")
    startup_ratio: float = param(1.5, "startup ramp: a rung is sustainable while the (safe) estimate >= ratio * its "
                                 "segment's bit rate", positive, "> 0")
    startup_drop: float = param(1.25, "startup ramp: a rung is survivable when its segment still arrives before the buffer "
                                "runs dry if the throughput fell to estimate / startup_drop", non_negative, ">= 0")
    startup_step: int = param(1, "rungs climbed at most per startup decision", lambda x: x >= 1, ">= 1")
    startup_slack_s: float = param(1.0, "the startup ramp ends when the buffer fell by more than this (s) over a download",
                                   non_negative, ">= 0")
    virtual_leak_s: float = param(0.25, "after a startup ramp that ran ahead of the map, a virtual buffer keeps the map "
                                  "at the ramp's rung (BOLA-E's placeholder); it leaks this much (s) per segment",
                                  non_negative, ">= 0")
    virtual_drain: float = param(0.0, "the virtual buffer also shrinks by this factor times any fall of the real buffer",
                                 non_negative, ">= 0")
    ramp_ratio: float = param(1.15, "after startup, also step up (past the map) when the buffer grew, to the highest rung "
                              "with estimate >= ratio * its bit rate, after up_confirm decisions; 0 disables",
                              non_negative, ">= 0")
    spend_horizon_s: float = param(120.0, "end-of-presentation spending: with at most this much content (s) left, a rung "
                                   "whose projected drain until the end (at the safe estimate) fits in spend_share of "
                                   "the buffer above the reservoir is allowed up (past the headroom test) and is not "
                                   "left for the map; 0 disables", non_negative, ">= 0")
    spend_share: float = param(1.0, "share of the buffer above the reservoir that end-of-presentation spending may use",
                               unit_interval, "0 < x <= 1")
    risk_k: float = param(3.0, "downside risk near the end: end_reservoir and end_top are multiplied by (1 + risk_k * "
                          "CV), CV the coefficient of variation of the last risk_window throughput samples, so a "
                          "volatile link keeps more of its buffer to the end; 0 disables", non_negative, ">= 0")
    risk_window: int = param(16, "throughput samples over which the CV (downside risk) is measured", lambda x: x >= 2,
                             ">= 2")
    fast_half_life: float = param(1.2, "fast EWMA half-life (unit: half_life_unit)", positive, "> 0")
    slow_half_life: float = param(6.0, "slow EWMA half-life (unit: half_life_unit)", positive, "> 0")
    half_life_unit: str = param("s", "'s': seconds of transfer time (as Shaka); 'downloads': per sample",
                                lambda x: x in ("s", "downloads"), "s or downloads")
    headroom_from: str = param("safe", "estimate used for up-switch headroom and ramps: 'fast' (last-sample "
                               "biased) or 'safe' (the lower of the two EWMAs)", lambda x: x in ("fast", "safe"),
                               "fast or safe")
    min_sample_bytes: int = param(16000, "samples smaller than this are ignored by the estimator", lambda x: x >= 0, ">= 0")
    abandon: bool = param(True, "allow abandoning a download in flight that would stall")
    abandon_margin_s: float = param(0.5, "projected stall (s) needed before abandoning", non_negative, ">= 0")
    abandon_min_elapsed_s: float = param(0.5, "do not judge a download younger than this (s)", non_negative, ">= 0")
    start_rule: bool = param(True, "begin playback once the buffer covers the predicted fetch time (ready_to_start), "
                             "and choose the rungs before it for the startup they add; off: start on the first "
                             "segment, first rung the lowest")
    start_horizon_s: float = param(10.0, "start rule: also cover the deficit of this much content (s) after the "
                                   "segment in flight when even the lowest rung is not sustained", non_negative, ">= 0")
    stall_cost: float = param(4.3, "QoE_lin cost of a second of startup wait or stall (weighs the rungs fetched "
                              "before playback begins)", non_negative, ">= 0")
    ramp_hold: float = param(1.0, "the startup ramp climbs to rung r only with ramp_hold x r/top of the reservoir "
                             "buffered; 0 disables", non_negative, ">= 0")
    ramp_exit: str = param("step", "when the ramp ends under the reservoir: 'step' (down one rung per falling "
                           "buffer, hold while it grows) or 'reservoir' (straight to the lowest rung)",
                           lambda x: x in ("step", "reservoir"), "step or reservoir")
    bandwidth_guess_bps: float = param(1_000_000.0, "estimate before the first sample", positive, "> 0")

    def validate(self) -> str | None:
        if self.slow_half_life < self.fast_half_life:
            return "slow_half_life must be >= fast_half_life"
        return None
