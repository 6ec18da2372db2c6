"""Why a fetch attempt failed, as a type (the retry loop and the OCA ranking act on it)."""

from __future__ import annotations

from enum import Enum


class Failure(str, Enum):
    """Why one attempt at one OCA failed (what the retry loop and the ranking act on)."""

    REFUSED = "refused"  # no connection
    STALLED = "stalled"  # no byte within the stall timeout
    BROKEN = "broken"  # connection reset or closed mid-body
    TRUNCATED = "truncated"  # fewer bytes than Content-Length
    WRONG_SIZE = "wrong_size"  # not the size the manifest's byte range says
    TOKEN_REJECTED = "token_rejected"  # 401/403: the signed URL expired or is refused
    MISSING = "missing"  # 404/410: this OCA does not hold the object
    SERVER = "server"  # 5xx
    HTTP = "http"  # any other 4xx (416 included)
    TOO_LARGE = "too_large"  # more bytes than the manifest allows for this object
    REDIRECT = "redirect"  # a redirect to another server, refused
    OTHER = "other"  # any other transport error


class AttemptFailed(Exception):
    """A typed fetch failure: ``failure`` says what happened, ``reason`` says it in words
    (logs, failover events), ``status`` is the HTTP status when there was one."""

    def __init__(self, failure: Failure, reason: str, *, status: int | None = None,
                 penalize: bool = True, weight: float = 1.0) -> None:
        super().__init__(reason)
        self.failure = failure
        self.reason = reason
        self.status = status
        self.penalize = penalize
        self.weight = weight
