"""Pseudonymous ids: an installation id the user can reset, a fresh id per playback session.

Neither is derived from the account, the device id used to sign in, the machine or
the network: both are random (uuid4), so they link events to each other and to
nothing else.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from marquee import paths


def id_path() -> Path:
    return paths.data_dir() / "telemetry-installation-id"


def installation_id(path: Path | None = None) -> str:
    path = path or id_path()
    try:
        value = path.read_text(encoding="utf-8").strip()
        if len(value) == 32:
            return value
    except OSError:
        pass
    return reset_installation_id(path)


def reset_installation_id(path: Path | None = None) -> str:
    """A new random installation id: later batches cannot be linked to earlier ones."""
    path = path or id_path()
    value = uuid.uuid4().hex
    tmp = path.with_suffix(".tmp")
    tmp.write_text(value + "\n", encoding="utf-8")
    tmp.replace(path)
    return value


def new_session_id() -> str:
    return uuid.uuid4().hex
