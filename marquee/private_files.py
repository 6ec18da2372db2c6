"""Files only this user may read: state folders 0700, databases, keys and secrets 0600 (POSIX).

Created with those modes (no window in which another local user could open them), and
tightened with a log line when an older install left them looser. On Windows the modes
mean little and the per-user profile folder is what protects them; nothing is changed there.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

log = logging.getLogger("marquee.private_files")

POSIX = os.name == "posix"
DIR_MODE = 0o700
FILE_MODE = 0o600
ADMIN_SECRET_FILE = "admin.secret"
ADMIN_HEADER = "x-marquee-admin-secret"


def tighten(path: Path, mode: int) -> bool:
    """Make ``path`` no more open than ``mode`` (owner only); True when it was looser."""
    if not POSIX or not path.exists():
        return False
    current = stat.S_IMODE(path.stat().st_mode)
    if current & ~mode == 0:
        return False
    path.chmod(current & mode)
    log.warning("%s was readable by other users (mode %o); now %o", path, current, current & mode)
    return True


def private_dir(path: Path) -> Path:
    """``path`` (and missing parents) created 0700; an existing one tightened to 0700."""
    if not path.exists():
        path.mkdir(parents=True, mode=DIR_MODE, exist_ok=True)
    tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """An existing file tightened to 0600, or an empty one created 0600 (missing parents 0700;
    an existing parent is the caller's: ``paths`` makes Marquee's own folders 0700)."""
    if not path.parent.exists():
        private_dir(path.parent)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    tighten(path, FILE_MODE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new 0600 file that replaces ``path`` atomically."""
    if not path.parent.exists():
        private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read_or_create_secret(path: Path, nbytes: int = 32) -> bytes:
    """The random secret kept in ``path`` (0600), created on first use."""
    if path.exists():
        tighten(path, FILE_MODE)
        data = path.read_bytes()
        if len(data) >= 16:
            return data
    data = secrets.token_hex(nbytes).encode("ascii")
    write_private(path, data)
    return data


def admin_secret(service_dir: Path) -> str:
    """The per-installation secret the admin plane asks for (header ``X-Marquee-Admin-Secret``)."""
    return admin_secret_at(service_dir / ADMIN_SECRET_FILE)


def admin_secret_at(path: Path) -> str:
    return read_or_create_secret(path).decode("ascii", "replace").strip()


def admin_headers(service_dir: Path) -> dict[str, str]:
    return {ADMIN_HEADER: admin_secret(service_dir)}
