"""A tiny HTTP/1.1 server on loopback for fetcher tests: serves one body with scripted faults.

Faults are what a real dying edge server does to a TCP connection, which httpx's
MockTransport cannot show: a stall (open connection, no bytes), a truncated body, a
reset. Runs inside the test's own asyncio loop.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field


@dataclass
class Behaviour:
    status: int = 200
    stall_after: int | None = None  # send this many body bytes, then go silent
    truncate_after: int | None = None  # send this many body bytes, then close
    delay_s: float = 0.0  # before the status line


@dataclass
class FakeOca:
    body: bytes
    behaviour: Behaviour = field(default_factory=Behaviour)
    requests: list[dict[str, str]] = field(default_factory=list)
    server: asyncio.AbstractServer | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}/"

    async def start(self) -> "FakeOca":
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                headers["path"] = lines[0].split(" ")[1]
                self.requests.append(headers)
                b = self.behaviour
                if b.delay_s:
                    await asyncio.sleep(b.delay_s)
                body, status = self.body, b.status
                start = 0
                match = re.match(r"bytes=(\d+)-(\d*)", headers.get("range", ""))
                if match and status == 200:
                    start = int(match.group(1))
                    end = int(match.group(2)) if match.group(2) else len(self.body) - 1
                    body, status = self.body[start : end + 1], 206
                if status >= 400:
                    body = b"error"
                reason = {200: "OK", 206: "Partial Content"}.get(status, "Error")
                writer.write(
                    f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\n"
                    f"Accept-Ranges: bytes\r\n\r\n".encode()
                )
                cut = b.stall_after if b.stall_after is not None else b.truncate_after
                if cut is not None and status < 400:
                    writer.write(body[:cut])
                    await writer.drain()
                    if b.stall_after is not None:
                        await asyncio.sleep(3600)
                    writer.close()
                    return
                writer.write(body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
