"""Strict parsers for everything a client sends: integers, timestamps and JSON documents.

Pure. One place decides what a number in a header, a token or a body may look like, so
no handler meets ``int('²')``, a 5,000-digit integer, ``NaN``, ``1e400`` or JSON nested
100,000 deep. Every refusal is a ``ParseError`` with a message in plain words; the API
layer answers it with a 400.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_INT_DIGITS = 18  # below SQLite's 2**63 and far below Python's 4,300-digit int() limit
MAX_JSON_DEPTH = 32
# Wall-clock seconds the service accepts from a client: 1970..2100 (time.gmtime and SQLite
# both handle every value in between).
MIN_TIMESTAMP = 0.0
MAX_TIMESTAMP = 4_102_444_800.0
_DIGITS = frozenset("0123456789")


class ParseError(ValueError):
    """Input that is not what the field allows; ``str(exc)`` says what was expected."""


def parse_uint(text: str, *, max_digits: int = MAX_INT_DIGITS, what: str = "value") -> int:
    """A non-negative integer written with ASCII digits only (no sign, no spaces, no '²')."""
    if not text or len(text) > max_digits or not _DIGITS.issuperset(text):
        raise ParseError(f"{what} must be a whole number of 1..{max_digits} ASCII digits")
    return int(text)


def is_uint(text: str, *, max_digits: int = MAX_INT_DIGITS) -> bool:
    return bool(text) and len(text) <= max_digits and _DIGITS.issuperset(text)


def check_timestamp(value: float, *, what: str = "timestamp") -> float:
    """A Unix time in seconds the service can store and format (1970..2100)."""
    if not math.isfinite(value) or not MIN_TIMESTAMP <= value <= MAX_TIMESTAMP:
        raise ParseError(f"{what} must be a Unix time between 1970 and 2100")
    return value


def check_number(value: Any, lo: float, hi: float, *, what: str = "value") -> float:
    """A finite JSON number (not a boolean) within [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParseError(f"{what} must be a number")
    if isinstance(value, int) and abs(value) > 10**MAX_INT_DIGITS:
        raise ParseError(f"{what} must be between {lo:g} and {hi:g}")
    number = float(value)
    if not math.isfinite(number) or not lo <= number <= hi:
        raise ParseError(f"{what} must be between {lo:g} and {hi:g}")
    return number


def _refuse_constant(name: str) -> Any:
    raise ParseError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ParseError(f"the number {text[:20]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > MAX_INT_DIGITS:
        raise ParseError(f"an integer of {len(digits)} digits is out of range")
    return int(text)


def depth(doc: Any, limit: int) -> int:
    """How deeply ``doc`` nests (a scalar is 0), counted without recursion and up to ``limit + 1``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        stack.extend((child, level) for child in children if isinstance(child, (dict, list)))
    return deepest


def loads(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON strictly: finite numbers only, integers of at most 18 digits, at most
    ``max_depth`` levels of nesting; ``ParseError`` otherwise (never ``RecursionError``)."""
    try:
        doc = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int)
    except ParseError:
        raise
    except RecursionError:
        raise ParseError(f"the JSON nests deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise ParseError("the body is not valid JSON") from None
    if depth(doc, max_depth) > max_depth:
        raise ParseError(f"the JSON nests deeper than {max_depth} levels")
    return doc
