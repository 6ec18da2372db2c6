"""Parameters: named, documented, validated; errors are ConfigError with a clear message."""

from __future__ import annotations

import pytest

from abr import algorithm_info, algorithms, make_controller
from abr.cli import split_params
from marquee.errors import ConfigError


def test_algorithm_names() -> None:
    assert algorithms() == ["default", "throughput", "bba0", "bola", "robustmpc"]


@pytest.mark.parametrize("algo", algorithms())
def test_every_parameter_is_documented(algo: str) -> None:
    info = algorithm_info(algo)
    assert info.params, algo
    for p in info.params:
        assert p.doc and p.default != ""


def test_values_are_parsed_and_typed() -> None:
    ctrl = make_controller("default", {"reservoir_s": "6.5", "up_confirm": "3", "abandon": "false"})
    assert ctrl.p.reservoir_s == 6.5 and ctrl.p.up_confirm == 3 and ctrl.p.abandon is False  # type: ignore[attr-defined]
    mpc = make_controller("robustmpc", {"horizon": "4"})
    assert mpc.p.horizon == 4  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("algo", "params", "needle"),
    [
        ("default", {"nope": "1"}, "unknown parameter 'nope'"),
        ("default", {"reservoir_s": "abc"}, "not a valid float"),
        ("default", {"reservoir_s": "-1"}, ">= 0"),
        ("default", {"up_confirm": "1.5"}, "not a valid int"),
        ("default", {"abandon": "maybe"}, "not a valid bool"),
        ("default", {"fast_half_life": "20", "slow_half_life": "5"}, "slow_half_life"),
        ("robustmpc", {"horizon": "9"}, "1..6"),
        ("nosuch", {}, "unknown ABR algorithm"),
    ],
)
def test_invalid_params_raise_config_error(algo: str, params: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_controller(algo, params)
    assert needle in err.value.message


def test_cli_param_routing() -> None:
    out = split_params(["reservoir_s=6", "robustmpc:horizon=3"], ["default", "bba0", "robustmpc"])
    assert out == {"default": {"reservoir_s": "6"}, "bba0": {"reservoir_s": "6"}, "robustmpc": {"horizon": "3"}}
    with pytest.raises(ConfigError):
        split_params(["nothing=1"], ["default"])
    with pytest.raises(ConfigError):
        split_params(["bola:gamma_p=1"], ["default"])
    with pytest.raises(ConfigError):
        split_params(["novalue"], ["default"])
