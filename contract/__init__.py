"""The service's wire contract: every request and response body of its HTTP API, once.

The ground floor under both the client (``marquee.api``, the UI, the engine) and the
reference service: plain ``msgspec`` structs and nothing else (no HTTP, no I/O).
``decode`` validates a parsed JSON document against a type at a boundary and turns a
mismatch into a ``ContractError`` that names the field; ``to_builtins`` turns a value
back into JSON-able dicts and lists (what the service answers, what caches store).
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

T = TypeVar("T")


class ContractError(ValueError):
    """A body that does not match the contract; the message names the field (``$.ocas[0].id``)."""


def decode(doc: Any, kind: type[T]) -> T:
    """``doc`` (already parsed JSON) as ``kind``; ``ContractError`` if it does not fit."""
    try:
        return msgspec.convert(doc, kind)
    except msgspec.ValidationError as exc:
        raise ContractError(f"{kind.__name__}: {exc}") from None


def decode_json(raw: bytes | str, kind: type[T]) -> T:
    """Raw JSON text as ``kind`` (one pass: parse and validate)."""
    try:
        return msgspec.json.decode(raw, type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ContractError(f"{kind.__name__}: {exc}") from None


def to_builtins(value: Any) -> Any:
    """A contract value as JSON-able builtins (dicts, lists, str, numbers, None)."""
    return msgspec.to_builtins(value)
