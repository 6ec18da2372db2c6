"""The ``marquee://`` stream protocol of libmpv, in ctypes: mpv reads the engine's feed
through these callbacks (on mpv's own thread). No ``mpv`` import: just the C ABI of
``libmpv/stream_cb.h``."""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from player.feed import ByteFeed, FeedTimeout

log = logging.getLogger("marquee.player.mpv")

# Our own ctypes view of libmpv/stream_cb.h: ``buf`` as a plain address.

_ReadFn = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64)
_CloseFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_CancelFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class _StreamCbInfo(ctypes.Structure):
    _fields_ = [
        ("cookie", ctypes.c_void_p),
        ("read", _ReadFn),
        ("seek", ctypes.c_void_p),  # NULL: not seekable
        ("size", ctypes.c_void_p),  # NULL: unknown size
        ("close", _CloseFn),
        ("cancel", _CancelFn),
    ]


_OpenFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(_StreamCbInfo))


@dataclass
class ReadStats:
    """Cost of mpv's read callback (CPU time measured on the calling thread)."""

    calls: int = 0
    bytes: int = 0
    cpu_s: float = 0.0


class _FeedStream:
    """One open ``marquee://feed/<id>`` stream: mpv's read/close/cancel callbacks."""

    POLL_S = 0.05

    def __init__(self, feed: ByteFeed, stats: ReadStats) -> None:
        self.feed = feed
        self.stats = stats
        self.cancelled = threading.Event()
        self.read_cb = _ReadFn(self._read)
        self.close_cb = _CloseFn(self._close)
        self.cancel_cb = _CancelFn(self._cancel)
        self.on_close: Callable[[], None] = lambda: None

    def _read(self, _cookie: Any, buf: int | None, size: int) -> int:
        try:
            while True:
                t0 = time.thread_time()
                try:
                    n = self.feed.read_into(buf or 0, size, timeout=self.POLL_S)
                except FeedTimeout:
                    if self.cancelled.is_set():
                        return 0
                    continue
                st = self.stats
                st.calls += 1
                st.bytes += n
                st.cpu_s += time.thread_time() - t0
                return n
        except Exception:  # never let an exception cross into C
            log.exception("feed read failed")
            return -1

    def _close(self, _cookie: Any) -> None:
        self.cancelled.set()
        self.on_close()

    def _cancel(self, _cookie: Any) -> None:
        self.cancelled.set()
