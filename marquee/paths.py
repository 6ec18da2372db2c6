"""Where Marquee keeps its state.

Everything the app writes lives under the platform's standard locations
(platformdirs), or under one directory when ``MARQUEE_HOME`` is set: tests,
portable installs and several simulated devices on one machine use that.
Functions, not constants: the environment is read at call time so a test can
point one process at a fresh home.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from marquee.private_files import private_dir

APP_NAME = "marquee"
HOME_ENV = "MARQUEE_HOME"


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV, "").strip()
    return Path(value).expanduser().resolve() if value else None


def _ensure(path: Path) -> Path:
    """The folder, created 0700 (tightened when looser): other local users read nothing of ours."""
    return private_dir(path)


def config_dir() -> Path:
    """Human-edited settings (settings.toml)."""
    home = _home()
    return _ensure(home / "config" if home else Path(platformdirs.user_config_dir(APP_NAME)))


def data_dir() -> Path:
    """Data the user would miss: databases, downloads, device identity."""
    home = _home()
    return _ensure(home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME)))


def cache_dir() -> Path:
    """Data that can be rebuilt: built demo content, artwork cache."""
    home = _home()
    return _ensure(home / "cache" if home else Path(platformdirs.user_cache_dir(APP_NAME)))


def log_dir() -> Path:
    home = _home()
    return _ensure(home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME)))


def content_dir() -> Path:
    """The demo catalogue's media, built by ``marquee content build``."""
    return _ensure(cache_dir() / "content")


def service_dir() -> Path:
    """State of the embedded reference service (its SQLite database, keys)."""
    return _ensure(data_dir() / "service")


def downloads_dir() -> Path:
    return _ensure(data_dir() / "downloads")


def client_db_path() -> Path:
    """The client's local SQLite state (positions, telemetry queue, OCA stats)."""
    return data_dir() / "client.sqlite3"
