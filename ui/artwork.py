"""Artwork: lazy, off the UI thread, cached on disk and (bounded) in memory.

Views ask ``pixmap(url, size)``; on a miss they get ``None`` (and paint a
placeholder) while a worker fetches the bytes (disk cache first, then the
service), decodes and scales them into a QImage. Back on the UI thread the
image becomes a QPixmap in a byte-bounded LRU and ``loaded(url)`` fires so the
models can repaint just those tiles.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, QRectF, QRunnable, QSize, QThreadPool, Qt, Signal, Slot
from PySide6.QtGui import QImage, QPainter, QPainterPath, QPixmap

log = logging.getLogger("marquee.ui.artwork")

Fetcher = Callable[[str], bytes]


def cache_key(url: str) -> str:
    """Stable across runs: the embedded service's port changes, its paths do not."""
    parts = urlsplit(url)
    ident = parts.path + ("?" + parts.query if parts.query else "") if parts.path else url
    return hashlib.sha1(ident.encode()).hexdigest()


class PixmapLru:
    """Least-recently-used pixmaps, bounded by total bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[tuple[str, int, int, int], QPixmap] = OrderedDict()

    @staticmethod
    def _cost(pm: QPixmap) -> int:
        return max(1, pm.width() * pm.height() * 4)

    def get(self, key: tuple[str, int, int, int]) -> QPixmap | None:
        pm = self._items.get(key)
        if pm is not None:
            self._items.move_to_end(key)
        return pm

    def put(self, key: tuple[str, int, int, int], pm: QPixmap) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= self._cost(old)
        self._items[key] = pm
        self.bytes += self._cost(pm)
        while self.bytes > self.max_bytes and len(self._items) > 1:
            _, evicted = self._items.popitem(last=False)
            self.bytes -= self._cost(evicted)

    def __len__(self) -> int:
        return len(self._items)


class _Signals(QObject):
    done = Signal(str, int, int, int, object)  # url, w, h, radius, QImage or None


class _Load(QRunnable):
    def __init__(self, signals: _Signals, url: str, size: QSize, radius: int, fetch: Fetcher, disk: Path | None) -> None:
        super().__init__()
        self._s, self._url, self._size, self._fetch, self._disk = signals, url, size, fetch, disk
        self._radius = radius

    def run(self) -> None:
        image: QImage | None = None
        try:
            data = self._read()
            img = QImage.fromData(data)
            if not img.isNull():
                image = img.scaled(self._size, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                                   Qt.TransformationMode.SmoothTransformation)
                if image.size() != self._size:  # centre-crop to the exact tile size
                    x = (image.width() - self._size.width()) // 2
                    y = (image.height() - self._size.height()) // 2
                    image = image.copy(x, y, self._size.width(), self._size.height())
                if self._radius > 0:
                    image = _rounded(image, self._radius)
            else:
                log.warning("artwork is not an image: %s", self._url)
        except Exception as exc:  # network/disk trouble: keep the placeholder, say why
            log.info("artwork %s not loaded: %s", self._url, exc)
        self._s.done.emit(self._url, self._size.width(), self._size.height(), self._radius, image)

    def _read(self) -> bytes:
        path = self._disk / f"{cache_key(self._url)}.img" if self._disk else None
        if path is not None:
            try:
                return path.read_bytes()
            except OSError:
                pass
        data = self._fetch(self._url)
        if path is not None:
            try:
                tmp = path.with_suffix(".part")
                tmp.write_bytes(data)
                tmp.replace(path)
            except OSError as exc:
                log.warning("artwork disk cache write failed: %s", exc)
        return data


def _rounded(image: QImage, radius: int) -> QImage:
    """Corners cut here, on the worker, so painting a tile needs no clip path."""
    out = QImage(image.size(), QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(Qt.GlobalColor.transparent)
    p = QPainter(out)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    path.addRoundedRect(QRectF(out.rect()), radius, radius)
    p.setClipPath(path)
    p.drawImage(0, 0, image)
    p.end()
    return out


class ArtworkLoader(QObject):
    loaded = Signal(str)  # url

    def __init__(self, fetch: Fetcher, disk_dir: Path | None, *, memory_bytes: int = 96 * 1024 * 1024,
                 threads: int = 4, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self._disk = disk_dir
        if disk_dir is not None:
            disk_dir.mkdir(parents=True, exist_ok=True)
        self._lru = PixmapLru(memory_bytes)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._signals = _Signals(self)
        self._signals.done.connect(self._done)
        self._inflight: set[tuple[str, int, int, int]] = set()
        self._failed: set[tuple[str, int, int, int]] = set()
        self.requests = 0  # fetch jobs started (for tests and benchmarks)

    @property
    def memory(self) -> PixmapLru:
        return self._lru

    def set_fetcher(self, fetch: Fetcher) -> None:
        self._fetch = fetch
        self._failed.clear()

    def pixmap(self, url: str, size: QSize, radius: int = 0) -> QPixmap | None:
        """The cached pixmap (corners rounded by ``radius`` device pixels), or None after
        scheduling a background load."""
        if not url or size.isEmpty():
            return None
        key = (url, size.width(), size.height(), radius)
        pm = self._lru.get(key)
        if pm is not None:
            return pm
        if key not in self._inflight and key not in self._failed:
            self._inflight.add(key)
            self.requests += 1
            self._pool.start(_Load(self._signals, url, QSize(size), radius, self._fetch, self._disk))
        return None

    def pending(self) -> int:
        """Loads scheduled and not finished yet (tests and screenshots wait for 0)."""
        return len(self._inflight)

    def retry_failed(self) -> None:
        self._failed.clear()

    def wait_idle(self, msecs: int = 10_000) -> bool:
        return self._pool.waitForDone(msecs)

    def shutdown(self) -> None:
        self._pool.clear()
        self._pool.waitForDone(3000)

    @Slot(str, int, int, int, object)
    def _done(self, url: str, w: int, h: int, radius: int, image: object) -> None:
        key = (url, w, h, radius)
        self._inflight.discard(key)
        if isinstance(image, QImage) and not image.isNull():
            self._lru.put(key, QPixmap.fromImage(image))
            self.loaded.emit(url)
        else:
            self._failed.add(key)
