from player.oca.ranking import OcaRanker, OcaStats
from player.oca.store import OcaStatsStore, origin_of


def test_stats_survive_a_restart_and_warm_the_next_ranking(tmp_path):
    store = OcaStatsStore(tmp_path / "client.sqlite3")
    store.save({"http://127.0.0.1:9001": OcaStats(throughput_bps=80e6, latency_s=0.002, successes=12, failures=1),
                "http://127.0.0.1:9002": OcaStats(throughput_bps=2e6, latency_s=0.05, successes=3)}, now=1000.0)
    loaded = OcaStatsStore(tmp_path / "client.sqlite3").load(now=2000.0)
    assert loaded["http://127.0.0.1:9001"].successes == 12
    ranker = OcaRanker(["slow", "fast"], history={"slow": loaded["http://127.0.0.1:9002"],
                                                 "fast": loaded["http://127.0.0.1:9001"]})
    assert ranker.best(now=0.0) == "fast"


def test_unused_entries_are_not_written_and_old_ones_are_forgotten(tmp_path):
    store = OcaStatsStore(tmp_path / "db.sqlite3")
    store.save({"http://a:1": OcaStats(), "http://b:2": OcaStats(successes=1)}, now=0.0)
    assert set(store.load(now=10.0)) == {"http://b:2"}
    assert store.load(now=60 * 86400) == {}


def test_origin_ignores_paths_and_signed_tokens():
    assert origin_of("http://127.0.0.1:8001/c/TOKEN/m0/") == "http://127.0.0.1:8001"
    assert origin_of("HTTPS://Edge.Example.com/x") == "https://edge.example.com"
