"""A bounded byte pipe from the engine (asyncio writer) to mpv (reader thread).

The engine awaits ``write`` for every remuxed segment; while the pipe is full the
write waits, so a full pipe is what slows fetching. mpv's stream-protocol read
callback calls ``read_into`` on its own thread, which copies straight into mpv's
buffer with one ``ctypes.memmove`` per chunk touched.

``close()`` marks the end of the stream (the reader gets EOF once drained);
``abort()`` (seek, stop) drops everything and releases both sides at once.
"""

from __future__ import annotations

import asyncio
import collections
import ctypes
import threading
import time
from typing import Deque

__all__ = ["ByteFeed", "FeedTimeout"]


class FeedTimeout(TimeoutError):
    """``read_into``/``read`` waited ``timeout`` seconds and no byte arrived."""


class _Chunk:
    __slots__ = ("data", "addr", "off")

    def __init__(self, data: bytes) -> None:
        self.data = data
        # Address of the bytes object's own buffer (immutable, kept alive by self.data).
        self.addr: int = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0
        self.off = 0


class ByteFeed:
    """Thread-safe bounded FIFO of bytes; one writer, one reader.

    ``capacity`` bounds the bytes held. A write larger than the free space is taken
    piece by piece as the reader frees room, so the bound holds for any write size.
    ``media_s`` given with each write lets the feed report how many seconds of
    media it holds (``buffered_media_s``), prorated by bytes inside a chunk.
    """

    def __init__(self, capacity: int = 8 << 20) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._lock = threading.Lock()
        self._readable = threading.Condition(self._lock)
        self._writable = threading.Condition(self._lock)
        self._chunks: Deque[_Chunk] = collections.deque()
        self._size = 0
        self._written = 0
        self._read = 0
        self._closed = False
        self._aborted = False
        # (stream byte offset where a write ended, cumulative media seconds at that point)
        self._marks: Deque[tuple[int, float]] = collections.deque()
        self._media_written = 0.0
        self._media_read_base = (0, 0.0)  # last mark the reader passed
        self._waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None

    # ------------------------------------------------------------------ state

    @property
    def bytes_written(self) -> int:
        return self._written

    @property
    def bytes_read(self) -> int:
        return self._read

    @property
    def buffered_bytes(self) -> int:
        return self._size

    @property
    def media_s_written(self) -> float:
        """Sum of ``media_s`` over all completed writes."""
        return self._media_written

    @property
    def buffered_media_s(self) -> float:
        with self._lock:
            return max(0.0, self._media_written - self._media_consumed())

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def aborted(self) -> bool:
        return self._aborted

    @property
    def eof(self) -> bool:
        """The reader has seen (or would now see) the end: closed and drained, or aborted."""
        return self._aborted or (self._closed and self._size == 0)

    # ----------------------------------------------------------------- writer

    async def write(self, data: bytes, media_s: float = 0.0) -> bool:
        """Append ``data``; awaits while the feed is full. Returns False (data dropped)
        when the feed was aborted or closed."""
        data = bytes(data)
        pos = 0
        while True:
            with self._lock:
                if self._aborted or self._closed:
                    return False
                pos = self._put_some(data, pos)
                if pos >= len(data):
                    self._mark(media_s)
                    return True
                loop = asyncio.get_running_loop()
                fut: asyncio.Future[None] = loop.create_future()
                self._waiter = (loop, fut)
            try:
                await fut
            finally:
                with self._lock:
                    if self._waiter is not None and self._waiter[1] is fut:
                        self._waiter = None

    def write_blocking(self, data: bytes, media_s: float = 0.0, timeout: float | None = None) -> bool:
        """Thread version of :meth:`write`. False when aborted, closed or timed out
        (on timeout the part that fit stays in the feed)."""
        data = bytes(data)
        deadline = None if timeout is None else time.monotonic() + timeout
        pos = 0
        with self._lock:
            while True:
                if self._aborted or self._closed:
                    return False
                pos = self._put_some(data, pos)
                if pos >= len(data):
                    self._mark(media_s)
                    return True
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._writable.wait(left)

    def close(self) -> None:
        """End of stream: the reader drains what is left, then gets EOF."""
        with self._lock:
            self._closed = True
            self._readable.notify_all()
            self._wake_writer()

    def abort(self) -> None:
        """Drop everything; a blocked reader gets EOF and a blocked writer False."""
        with self._lock:
            self._aborted = True
            self._chunks.clear()
            self._size = 0
            self._marks.clear()
            self._readable.notify_all()
            self._writable.notify_all()
            self._wake_writer()

    # ----------------------------------------------------------------- reader

    def read_into(self, dest: int | bytearray | memoryview, size: int, timeout: float | None = None) -> int:
        """Copy up to ``size`` bytes into ``dest`` (a C address, as mpv's read callback
        gets, or a writable buffer). Waits for at least one byte; returns how many were
        copied, 0 at EOF (closed and drained, or aborted). Raises :class:`FeedTimeout`
        when ``timeout`` passes with nothing to read."""
        if size <= 0:
            return 0
        addr = dest if isinstance(dest, int) else _buffer_address(dest, size)
        with self._lock:
            if not self._wait_readable(timeout):
                raise FeedTimeout(f"no data for {timeout} s")
            return self._copy_out(addr, size)

    def read(self, size: int, timeout: float | None = None) -> bytes:
        """Like :meth:`read_into` but returns the bytes (b"" at EOF)."""
        buf = bytearray(max(0, size))
        n = self.read_into(buf, size, timeout) if size > 0 else 0
        return bytes(buf[:n])

    # --------------------------------------------------------------- internal

    def _wait_readable(self, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._size == 0 and not self._closed and not self._aborted:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            self._readable.wait(left)
        return True

    def _copy_out(self, addr: int, size: int) -> int:
        copied = 0
        while copied < size and self._chunks:
            c = self._chunks[0]
            n = min(size - copied, len(c.data) - c.off)
            ctypes.memmove(addr + copied, c.addr + c.off, n)
            c.off += n
            copied += n
            if c.off == len(c.data):
                self._chunks.popleft()
        if copied:
            self._size -= copied
            self._read += copied
            self._writable.notify_all()
            self._wake_writer()
        return copied

    def _put_some(self, data: bytes, pos: int) -> int:
        room = self.capacity - self._size
        if room <= 0 or pos >= len(data):
            return pos
        piece = data if pos == 0 and len(data) <= room else data[pos : pos + room]
        if piece:
            self._chunks.append(_Chunk(piece))
            self._size += len(piece)
            self._written += len(piece)
            self._readable.notify_all()
        return pos + len(piece)

    def _mark(self, media_s: float) -> None:
        if media_s > 0:
            self._media_written += media_s
            self._marks.append((self._written, self._media_written))

    def _media_consumed(self) -> float:
        while self._marks and self._marks[0][0] <= self._read:
            self._media_read_base = self._marks.popleft()
        if not self._marks:
            return self._media_read_base[1] if self._read >= self._media_read_base[0] else 0.0
        b0, m0 = self._media_read_base
        b1, m1 = self._marks[0]
        if b1 <= b0:
            return m0
        return m0 + (m1 - m0) * (self._read - b0) / (b1 - b0)

    def _wake_writer(self) -> None:
        if self._waiter is None:
            return
        loop, fut = self._waiter
        self._waiter = None
        try:
            loop.call_soon_threadsafe(_resolve, fut)
        except RuntimeError:  # the writer's loop is closed: nobody waits any more
            pass


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _buffer_address(buf: bytearray | memoryview, size: int) -> int:
    mv = memoryview(buf)
    if mv.readonly or mv.nbytes < size:
        raise ValueError("read_into needs a writable buffer of at least `size` bytes")
    return ctypes.addressof(ctypes.c_char.from_buffer(mv))
