"""Adaptive bitrate: controllers, bandwidth estimation, trace-driven simulator (pure, no I/O).

Interface for the playback engine (see :mod:`abr.api` for the full contract)::

    from abr import make_controller, algorithms, Ladder, DecisionContext, DownloadSample

    ctrl = make_controller("default", {"reservoir_s": "8"})   # ConfigError on bad params
    ladder = Ladder(bitrates_bps=(300e3, 750e3, ...), segment_seconds=4.0,
                    segment_sizes=None or ((bytes per segment) per rung), segment_count=150)
    d = ctrl.choose(DecisionContext(ladder, buffer_s, segment_index, current_rung, now_s, startup))
    # d.rung, d.reason, d.abandon
    ctrl.on_sample(DownloadSample(nbytes, seconds, ttfb_s, rung, finished=True, segment_index=i))
    v = ctrl.check_abandon(DownloadSample(received, elapsed, ttfb, rung, finished=False), ctx)
    ctrl.reset()
    # Optional (the default controller has it): before playback begins, start it only when
    if isinstance(ctrl, StartRule) and ctrl.ready_to_start(ctx, in_flight).ready: ...

``algorithms()`` lists ``default``, ``throughput``, ``bba0``, ``bola``, ``robustmpc``;
``algorithm_info(name).params`` documents every parameter (name, default, doc).
Controllers are deterministic and read no clock: ``now_s`` comes from the caller's clock.
"""

from abr.api import Controller, Decision, DecisionContext, DownloadSample, Ladder, StartRule, StartVerdict
from abr.registry import algorithm_info, algorithms, make_controller

__all__ = [
    "Controller",
    "Decision",
    "DecisionContext",
    "DownloadSample",
    "Ladder",
    "StartRule",
    "StartVerdict",
    "algorithm_info",
    "algorithms",
    "make_controller",
]
