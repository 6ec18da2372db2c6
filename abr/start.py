"""The start rule (pure): when playback may begin, and the rungs fetched before it begins.

Playback begins once the buffered media covers the predicted time to fetch the rest of the segment in
flight, plus the deficit of the following ones within ``horizon_s`` of content when even the lowest
rung is not sustained (each of them then takes longer than it plays). The prediction uses the safe
estimate (the lower of the two EWMAs), so a link that slows down is not over-trusted.

Why this point: the QoE counts a second of waiting for the first frame and a second of stall alike
(4.3 in QoE_lin, ``abr/qoe.py`` and ``qa/metrics.py``), so a stall the buffer could have absorbed
is a startup delay moved into playback, where the viewer sees an interruption (and a real player
needs a refill before it resumes). Waiting past the predicted point costs its full time for a stall
that may not come. A rung fetched before the start is worth its bit rate for one segment against the
startup it adds at that cost (``rung_value``); the first segment's rung is chosen the same way with
an empty buffer.
"""

from __future__ import annotations

from abr.api import DownloadSample, Ladder


def fetch_left_s(total_bytes: float, in_flight: DownloadSample | None, bps: float, ttfb_s: float) -> float:
    """Predicted seconds until the segment in flight (or about to be requested) has arrived."""
    if in_flight is None or in_flight.nbytes <= 0:
        waited = 0.0 if in_flight is None else in_flight.seconds
        return max(ttfb_s - waited, 0.0) + total_bytes * 8.0 / bps
    return max(total_bytes - in_flight.nbytes, 0.0) * 8.0 / bps


def deficit_s(ladder: Ladder, index: int, bps: float, ttfb_s: float, horizon_s: float) -> float:
    """Buffer the segments after ``index`` within ``horizon_s`` would eat at the lowest rung (0 when it is sustained)."""
    need = 0.0
    played = 0.0
    k = index + 1
    count = ladder.segment_count
    while played < horizon_s and (count is None or k < count):
        need += max(ttfb_s + ladder.size(0, k) * 8.0 / bps - ladder.segment_seconds, 0.0)
        played += ladder.segment_seconds
        k += 1
    return need


def needed_buffer_s(ladder: Ladder, index: int, total_bytes: float, in_flight: DownloadSample | None, bps: float,
                    ttfb_s: float, horizon_s: float) -> float:
    """Buffer at which playback may begin (see the module doc)."""
    return fetch_left_s(total_bytes, in_flight, bps, ttfb_s) + deficit_s(ladder, index, bps, ttfb_s, horizon_s)


def rung_value(ladder: Ladder, rung: int, index: int, buffer_s: float, bps: float, ttfb_s: float,
               stall_cost: float) -> float:
    """QoE_lin of fetching segment ``index`` at ``rung`` before playback begins: its bit rate (Mbit/s, one
    segment) minus ``stall_cost`` per second of startup it adds beyond what the buffer already covers."""
    fetch = ttfb_s + ladder.size(rung, index) * 8.0 / bps
    return ladder.bitrates_bps[rung] / 1e6 - stall_cost * max(fetch - buffer_s, 0.0)


def best_start_rung(ladder: Ladder, index: int, buffer_s: float, bps: float, ttfb_s: float, stall_cost: float,
                    highest: int) -> int:
    """The rung up to ``highest`` with the best :func:`rung_value` (the lower one on a tie)."""
    values = [rung_value(ladder, r, index, buffer_s, bps, ttfb_s, stall_cost) for r in range(highest + 1)]
    return max(range(highest + 1), key=lambda r: (values[r], -r))
