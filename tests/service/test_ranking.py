from service.ranking import OcaState, ewma, rank_ocas, score


def test_rank_by_weight_health_load() -> None:
    ocas = [OcaState("a", 1.0, False, 0.0, 0), OcaState("b", 0.9, False, 0.0, 0), OcaState("c", 1.0, True, 0.0, 0),
            OcaState("d", 1.0, False, 0.5, 0), OcaState("e", 1.0, False, 0.0, 40)]
    ranked = rank_ocas(ocas)
    assert [r.id for r in ranked] == ["a", "b", "d", "e", "c"]
    assert [r.rank for r in ranked] == [1, 2, 3, 4, 5]
    assert score(ocas[2]) == 0.0


def test_flaky_beats_dead_and_limit() -> None:
    flaky = OcaState("f", 1.0, False, 1.0, 0)
    dead = OcaState("d", 1.0, True, 0.0, 0)
    assert score(flaky) > score(dead)
    many = [OcaState(f"o{i:02d}", 1.0, False, 0.0, 0) for i in range(15)]
    assert len(rank_ocas(many)) == 10


def test_ewma() -> None:
    v = 0.0
    for _ in range(50):
        v = ewma(v, True)
    assert v > 0.99
    assert ewma(1.0, False) == 0.9
