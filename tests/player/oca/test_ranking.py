from player.oca.ranking import OcaRanker, OcaStats, RankingParams


def test_without_measurements_the_service_order_wins():
    ranker = OcaRanker(["a", "b", "c"])
    assert ranker.ranked(now=0.0) == ["a", "b", "c"]


def test_measured_throughput_overrides_the_given_order():
    ranker = OcaRanker(["a", "b"])
    ranker.record_success("a", 1_000_000, 8.0, 0.02, now=1.0)  # 1 Mbit/s
    ranker.record_success("b", 1_000_000, 0.5, 0.02, now=1.0)  # 16 Mbit/s
    assert ranker.best(now=2.0) == "b"


def test_latency_counts_against_an_oca():
    ranker = OcaRanker(["a", "b"])
    ranker.record_success("a", 1_000_000, 1.0, 0.400, now=0.0)
    ranker.record_success("b", 1_000_000, 1.0, 0.010, now=0.0)
    assert ranker.best(now=0.0) == "b"


def test_a_failure_benches_the_oca_and_the_penalty_decays():
    params = RankingParams(penalty_half_life_s=10.0, penalty_per_failure=4.0, bench_threshold=2.0)
    ranker = OcaRanker(["a", "b"], params=params)
    ranker.record_failure("a", "connection refused", now=0.0)
    assert ranker.is_benched("a", now=0.0)
    assert ranker.ranked(now=0.0) == ["b"]
    assert ranker.is_benched("a", now=9.9)
    assert not ranker.is_benched("a", now=10.1)  # 4 * 0.5 ** (10.1 / 10) < 2
    assert ranker.ranked(now=10.1) == ["b", "a"]  # back in rotation, behind b until it decays


def test_probe_success_brings_a_benched_oca_back_before_it_decays():
    ranker = OcaRanker(["a", "b"], params=RankingParams(penalty_half_life_s=60.0))
    ranker.record_failure("a", "http 503", now=0.0)
    assert ranker.probes_due(now=1.0) == ["a"]
    ranker.record_probe("a", now=1.0)
    assert ranker.probes_due(now=2.0) == []  # not again before the probe interval
    ranker.record_success("a", 200_000, 0.1, 0.01, now=2.0)
    assert not ranker.is_benched("a", now=2.0)


def test_repeated_failures_accumulate():
    ranker = OcaRanker(["a", "b"], params=RankingParams(penalty_half_life_s=10.0))
    for t in range(5):
        ranker.record_failure("a", "http 500", now=float(t))
    # One failure decays below the threshold after 10 s; five take much longer.
    assert ranker.is_benched("a", now=25.0)


def test_all_benched_leaves_nothing_ranked_but_names_the_least_penalized():
    ranker = OcaRanker(["a", "b"])
    ranker.record_failure("a", "refused", now=0.0)
    ranker.record_failure("b", "refused", now=0.0)
    ranker.record_failure("b", "refused", now=0.0)
    assert ranker.all_benched(now=0.0)
    assert ranker.ranked(now=0.0) == []
    assert ranker.least_penalized(now=0.0) == "a"


def test_exclude_skips_an_oca_for_one_object():
    ranker = OcaRanker(["a", "b", "c"])
    assert ranker.ranked(now=0.0, exclude={"a"}) == ["b", "c"]
    # Excluding everything falls back to everything rather than to nothing.
    assert ranker.ranked(now=0.0, exclude={"a", "b", "c"}) == ["a", "b", "c"]


def test_history_warms_a_cold_start_but_old_failures_do_not_carry_over():
    history = {
        "b": OcaStats(throughput_bps=50e6, latency_s=0.01, successes=40, failure_marks=((0.0, 100.0),)),
    }
    ranker = OcaRanker(["a", "b"], history=history)
    assert ranker.best(now=0.0) == "b"
    assert not ranker.is_benched("b", now=0.0)


def test_tiny_bodies_do_not_move_the_throughput_estimate():
    ranker = OcaRanker(["a"])
    ranker.record_success("a", 500, 0.5, 0.01, now=0.0)
    assert ranker.stats("a").throughput_bps is None
    assert ranker.stats("a").successes == 1


def test_the_oca_in_use_is_kept_unless_another_is_clearly_better():
    ranker = OcaRanker(["a", "b"])
    ranker.record_success("a", 1_000_000, 0.10, 0.01, now=0.0)  # 80 Mbit/s
    ranker.record_success("b", 1_000_000, 0.08, 0.01, now=0.0)  # 100 Mbit/s: noise, not a reason to move
    assert ranker.best(now=1.0) == "b"
    assert ranker.best(now=1.0, current="a") == "a"
    ranker.record_success("b", 1_000_000, 0.01, 0.01, now=1.0)  # now several times faster
    ranker.record_success("b", 1_000_000, 0.01, 0.01, now=1.0)
    assert ranker.best(now=2.0, current="a") == "b"


def test_a_benched_current_oca_is_left_at_once():
    ranker = OcaRanker(["a", "b"])
    ranker.record_failure("a", "refused", now=0.0)
    assert ranker.best(now=0.0, current="a") == "b"
