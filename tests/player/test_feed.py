from __future__ import annotations

import asyncio
import ctypes
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from player.feed import ByteFeed, FeedTimeout


def drain(feed: ByteFeed, size: int = 1000) -> bytes:
    out = bytearray()
    while chunk := feed.read(size, timeout=5):
        out += chunk
    return bytes(out)


def test_fifo_and_eof_after_close() -> None:
    feed = ByteFeed(100)
    assert feed.write_blocking(b"hello ")
    assert feed.write_blocking(b"world")
    feed.close()
    assert feed.read(3) == b"hel"
    assert drain(feed) == b"lo world"
    assert feed.read(10) == b"" and feed.eof
    assert feed.bytes_written == feed.bytes_read == 11


def test_read_into_c_address_and_buffer() -> None:
    feed = ByteFeed(64)
    feed.write_blocking(b"abcdef")
    cbuf = ctypes.create_string_buffer(4)
    assert feed.read_into(ctypes.addressof(cbuf), 4) == 4
    assert cbuf.raw == b"abcd"
    buf = bytearray(10)
    assert feed.read_into(buf, 10, timeout=1) == 2
    assert buf[:2] == b"ef"
    with pytest.raises(ValueError):
        feed.read_into(bytes(10), 10)  # read-only


def test_read_timeout_then_data() -> None:
    feed = ByteFeed(64)
    t0 = time.monotonic()
    with pytest.raises(FeedTimeout):
        feed.read(10, timeout=0.05)
    assert time.monotonic() - t0 >= 0.04
    threading.Timer(0.05, lambda: feed.write_blocking(b"x")).start()
    assert feed.read(10, timeout=2) == b"x"


def test_bound_holds_and_big_write_goes_in_pieces() -> None:
    feed = ByteFeed(10)
    payload = bytes(range(35))
    seen_max = []

    def reader() -> None:
        out = bytearray()
        while chunk := feed.read(4, timeout=5):
            seen_max.append(feed.buffered_bytes)
            out += chunk
        result.append(bytes(out))

    result: list[bytes] = []
    t = threading.Thread(target=reader)
    t.start()
    assert feed.write_blocking(payload, timeout=5)
    feed.close()
    t.join(5)
    assert result == [payload]
    assert max(seen_max) <= 10


def test_async_writer_waits_while_full() -> None:
    """Backpressure: a full feed makes ``await write`` wait until the reader frees room."""

    async def scenario() -> tuple[float, bool]:
        feed = ByteFeed(8)
        assert await feed.write(b"12345678")  # full now
        t0 = time.monotonic()
        threading.Timer(0.2, lambda: feed.read(8)).start()
        ok = await asyncio.wait_for(feed.write(b"abc"), 5)
        return time.monotonic() - t0, ok

    waited, ok = asyncio.run(scenario())
    assert ok and waited >= 0.15


def test_abort_releases_both_sides() -> None:
    async def scenario() -> None:
        feed = ByteFeed(4)
        await feed.write(b"abcd")
        writer = asyncio.ensure_future(feed.write(b"efgh"))
        await asyncio.sleep(0.05)
        assert not writer.done()
        feed.abort()
        assert await asyncio.wait_for(writer, 2) is False
        assert feed.read(4, timeout=1) == b""  # reader: EOF, nothing left
        assert await feed.write(b"more") is False

    asyncio.run(scenario())

    feed = ByteFeed(4)
    got: list[bytes] = []
    t = threading.Thread(target=lambda: got.append(feed.read(4)))  # blocks, no timeout
    t.start()
    time.sleep(0.05)
    feed.abort()
    t.join(2)
    assert got == [b""]


def test_buffered_media_seconds() -> None:
    feed = ByteFeed(1000)
    feed.write_blocking(b"a" * 100, media_s=2.0)
    feed.write_blocking(b"b" * 100, media_s=2.0)
    assert feed.media_s_written == 4.0
    assert feed.buffered_media_s == pytest.approx(4.0)
    feed.read(150)
    assert feed.buffered_media_s == pytest.approx(1.0)
    feed.read(50)
    assert feed.buffered_media_s == pytest.approx(0.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=50), max_size=20), st.integers(1, 64), st.integers(1, 30))
def test_bytes_out_equal_bytes_in(chunks: list[bytes], capacity: int, read_size: int) -> None:
    feed = ByteFeed(capacity)

    def writer() -> None:
        for c in chunks:
            feed.write_blocking(c, media_s=0.5)
        feed.close()

    t = threading.Thread(target=writer)
    t.start()
    out = drain(feed, read_size)
    t.join(5)
    assert out == b"".join(chunks)
    assert feed.buffered_bytes == 0 and feed.eof
