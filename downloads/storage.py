"""Encrypted files of one downloaded title on disk.

``AtomicWriter.write`` puts bytes in place crash-safely: write ``<name>.part``, fsync it,
rename over the final name; ``sync(folder)`` then fsyncs the directory, which makes the
renames durable (one directory fsync for a batch of files: the download manager calls it
once per journal commit, and records files as done only after it). A ``.part`` file is
never taken for a finished one (the journal only lists files after the rename and the
directory fsync), ``remove_partials`` clears those left by a crash, and
``remove_unrecorded`` the complete files a crash left between rename and journal commit.
Only encrypted bytes ever reach this module.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterable, Protocol

from downloads.plan import stored_name

PARTIAL = ".part"


class FileWriter(Protocol):
    def write(self, path: Path, data: bytes) -> None:
        """Put ``data`` at ``path``: contents durable, never visible half-written."""

    def sync(self, folder: Path) -> None:
        """Make the renames done by ``write`` in ``folder`` durable."""


def write_durably(writer: FileWriter, path: Path, data: bytes) -> None:
    writer.write(path, data)
    writer.sync(path.parent)


class AtomicWriter:
    def write(self, path: Path, data: bytes) -> None:
        tmp = path.with_name(path.name + PARTIAL)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                view = memoryview(data)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def sync(self, folder: Path) -> None:
        fsync_dir(folder)


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def free_space(path: Path) -> int:
    return shutil.disk_usage(path).free


class TitleFiles:
    """The folder of one title: ``<root>/<download-id>/<opaque name>.mqe``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def ensure(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def file(self, relpath: str) -> Path:
        return self.folder / stored_name(relpath)

    def remove_partials(self) -> int:
        removed = 0
        if self.folder.is_dir():
            for p in self.folder.glob("*" + PARTIAL):
                p.unlink(missing_ok=True)
                removed += 1
        return removed

    def remove_unrecorded(self, recorded: Iterable[str]) -> int:
        """Delete the stored files whose path is not in ``recorded`` (the journal's finished
        files): a crash between a file's rename and its journal commit leaves a complete file
        nobody vouches for; it is fetched again, so it must not look downloaded meanwhile."""
        keep = {stored_name(p) for p in recorded}
        removed = 0
        if self.folder.is_dir():
            for p in self.folder.iterdir():
                if p.is_file() and p.name not in keep:
                    p.unlink(missing_ok=True)
                    removed += 1
        return removed

    def size(self) -> int:
        if not self.folder.is_dir():
            return 0
        return sum(p.stat().st_size for p in self.folder.iterdir() if p.is_file())

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def read_at(self, relpath: str, offset: int, length: int) -> bytes:
        with open(self.file(relpath), "rb") as fh:
            fh.seek(offset)
            return fh.read(length)
