"""Encrypted files of one downloaded title on disk.

A title's folder holds two kinds of stored files, each one sealed blob (``drm.crypto``):

* **Own files** ``<opaque name>.mqe``: the rewritten manifests, written once when the
  download is added (and every file of downloads made before packs existed).
  ``FileWriter.write`` puts one in place crash-safely: write ``<name>.part``, fsync it,
  rename over the final name; ``sync(folder)`` then fsyncs the directory, which makes the
  rename durable.
* **The pack** ``media.mqp``: every fetched file (init, media and subtitle segments),
  blob after blob. ``Pack.write_at`` puts a blob at an offset the manager reserved;
  ``Pack.flush`` (fdatasync) makes everything written so far durable, and only then does
  the journal record those blobs (with their offsets). A crash leaves at worst unrecorded
  bytes: ``open_pack`` truncates the pack to the end of the last recorded blob, so a blob
  nobody vouches for is never read and is fetched again.

Why a pack: a segment stored as its own file costs a file creation, an fsync, a rename and a
directory entry (1-2 ms of CPU each on the reference VM, far more on Windows, where every
new file is also scanned); a title is hundreds to thousands of segments. One file per title
turns that into one ``pwrite`` per segment and one fdatasync per journal commit.

Only encrypted bytes ever reach this module. The journal (``FileRow.pack_offset``) says
where each stored file is: ``None`` means its own file.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Callable, Iterable, Protocol

from downloads.plan import stored_name

PARTIAL = ".part"
PACK_NAME = "media.mqp"


class Pack(Protocol):
    def write_at(self, offset: int, data: bytes | memoryview) -> None:
        """Write ``data`` at ``offset`` (not durable until ``flush``)."""

    def flush(self) -> None:
        """Make every ``write_at`` so far durable."""

    def truncate(self, size: int) -> None:
        """Cut the pack to ``size`` bytes (drop blobs written but never recorded)."""

    def close(self) -> None: ...


class FileWriter(Protocol):
    def write(self, path: Path, data: bytes) -> None:
        """Put ``data`` at ``path``: contents durable, never visible half-written."""

    def sync(self, folder: Path) -> None:
        """Make the renames done by ``write`` in ``folder`` durable."""

    def open_pack(self, path: Path, size: int) -> Pack:
        """Open (or create) the pack at ``path``, cut to ``size`` bytes: what lies beyond the
        last recorded blob was left by a crash or a full disk and is dropped."""


class AtomicWriter:
    def write(self, path: Path, data: bytes) -> None:
        tmp = path.with_name(path.name + PARTIAL)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _BINARY, 0o600)
            try:
                _write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def sync(self, folder: Path) -> None:
        fsync_dir(folder)

    def open_pack(self, path: Path, size: int) -> "PackFile":
        return PackFile(path, size)


class PackFile:
    """A pack opened for writing. ``flush`` and ``truncate`` may run in another thread than
    ``write_at``."""

    def __init__(self, path: Path, size: int) -> None:
        created = not path.exists()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | _BINARY, 0o600)
        self._seek_lock = threading.Lock()  # where there is no pwrite (Windows)
        try:
            self.truncate(size)
            if created:
                fsync_dir(path.parent)  # the pack's directory entry is durable before any blob is recorded
        except BaseException:
            os.close(self._fd)
            raise

    def write_at(self, offset: int, data: bytes | memoryview) -> None:
        if hasattr(os, "pwrite"):
            view = memoryview(data)
            while view:
                n = os.pwrite(self._fd, view, offset)
                view, offset = view[n:], offset + n
        else:
            with self._seek_lock:
                os.lseek(self._fd, offset, os.SEEK_SET)
                _write_all(self._fd, data)

    def flush(self) -> None:
        (os.fdatasync if hasattr(os, "fdatasync") else os.fsync)(self._fd)
        _drop_cached(self._fd)

    def truncate(self, size: int) -> None:
        if os.fstat(self._fd).st_size != size:
            os.ftruncate(self._fd, size)
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


def _drop_cached(fd: int) -> None:
    """Drop the pack's clean pages from the page cache: a download is written once and read
    much later, so caching it would only evict what the user is working with, and the
    kernel reuses the freed pages for the next blobs instead of taking new ones (on the
    reference VM that made storing 5x cheaper: 3.2 -> 0.6 ms of CPU per MB). Dirty pages
    (blobs not yet flushed) are left alone by the kernel. Only where ``posix_fadvise`` exists."""
    if hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        except OSError:
            pass


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


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


class Located(Protocol):
    """Where a stored file is (``downloads.journal.FileRow`` is one)."""

    @property
    def path(self) -> str: ...

    @property
    def pack_offset(self) -> int | None: ...

    @property
    def stored_bytes(self) -> int | None: ...


ReadAt = Callable[[int, int], bytes]


class TitleFiles:
    """The folder of one title: ``<root>/<download-id>/``, its own files and its pack."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def pack(self) -> Path:
        return self.folder / PACK_NAME

    def ensure(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def file(self, relpath: str) -> Path:
        """The own file of ``relpath`` (manifests; every file of a download made before packs)."""
        return self.folder / stored_name(relpath)

    def remove_partials(self) -> int:
        removed = 0
        if self.folder.is_dir():
            for p in self.folder.glob("*" + PARTIAL):
                p.unlink(missing_ok=True)
                removed += 1
        return removed

    def remove_unrecorded(self, recorded: Iterable[str]) -> int:
        """Delete the own files whose path is not in ``recorded`` (the journal's finished own
        files): a crash between a file's rename and its journal commit leaves a complete file
        nobody vouches for; it is fetched again, so it must not look downloaded meanwhile.
        The pack is cut to its recorded blobs by ``FileWriter.open_pack`` instead."""
        keep = {stored_name(p) for p in recorded} | {PACK_NAME}
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

    def reader(self, f: Located) -> tuple[ReadAt, int]:
        """``(read_at(offset, length), size)`` of stored file ``f``'s sealed blob. Missing or
        cut-short storage reads short, which authentication then reports as damage."""
        if f.pack_offset is None:
            path = self.file(f.path)
            size = path.stat().st_size

            def read_own(offset: int, length: int) -> bytes:
                with open(path, "rb") as fh:
                    fh.seek(offset)
                    return fh.read(length)

            return read_own, size
        base, size = f.pack_offset, int(f.stored_bytes or 0)

        def read_packed(offset: int, length: int) -> bytes:
            length = max(0, min(length, size - offset))
            with open(self.pack, "rb") as fh:
                fh.seek(base + offset)
                return fh.read(length)

        return read_packed, size
