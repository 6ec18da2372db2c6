"""The strict parsers every handler uses: ASCII digits only, bounded lengths, finite numbers, bounded depth."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service import strict
from service.httputil import RangeNotSatisfiable, parse_range
from service.tokens import TokenError, sign_access_token, verify_access_token, verify_oca_token


@pytest.mark.parametrize("text", ["", "²", "١٢", "-1", "+1", " 1", "1 ", "1e3", "9" * 19, "9" * 5000, "0x10"])
def test_parse_uint_refuses(text: str) -> None:
    assert not strict.is_uint(text)
    with pytest.raises(strict.ParseError):
        strict.parse_uint(text)


@pytest.mark.parametrize("text,value", [("0", 0), ("42", 42), ("9" * 18, 10**18 - 1)])
def test_parse_uint_accepts(text: str, value: int) -> None:
    assert strict.parse_uint(text) == value


@pytest.mark.parametrize("raw", [b"[NaN]", b"Infinity", b"-Infinity", b"[1e400]", b"-1e400", b"1" * 5000,
                                 b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50 + b"1" + b"}" * 50, b"\xff\xfe", b"{"])
def test_loads_refuses_with_a_parse_error(raw: bytes) -> None:
    with pytest.raises(strict.ParseError):
        strict.loads(raw)


def test_loads_keeps_ordinary_documents() -> None:
    doc = {"a": [1, 2.5, None, True, "x"], "b": {"c": [[[]]]}}
    assert strict.loads(json.dumps(doc)) == doc


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)))
def test_loads_never_raises_anything_but_a_parse_error(doc: Any) -> None:
    raw = json.dumps(doc)  # may contain NaN/Infinity and huge integers
    try:
        strict.loads(raw)
    except strict.ParseError:
        pass


@pytest.mark.parametrize("ts", [float("nan"), float("inf"), 1e300, -1e18, -1.0, 5e9])
def test_timestamps_out_of_range(ts: float) -> None:
    with pytest.raises(strict.ParseError):
        strict.check_timestamp(ts)


@pytest.mark.parametrize("header", ["bytes=²-", "bytes=0-²", "bytes=-²", "bytes=0-" + "9" * 5000, "bytes=" + "1" * 5000 + "-"])
def test_range_with_odd_digits_is_ignored_not_a_crash(header: str) -> None:
    try:
        assert parse_range(header, 1000) is None
    except RangeNotSatisfiable:
        pass


@pytest.mark.parametrize("expiry", ["²", "9" * 5000, "-5", "1e9"])
def test_tokens_with_odd_expiries_are_malformed(expiry: str) -> None:
    good = sign_access_token(b"k", "acct", "dev", 2_000_000_000)
    account, device, _, sig = good.split(".")
    with pytest.raises(TokenError):
        verify_access_token(b"k", f"{account}.{device}.{expiry}.{sig}", 1.0)
    with pytest.raises(TokenError):
        verify_oca_token(b"k", f"{expiry}.{device}.{sig}", "m0", 1.0)
