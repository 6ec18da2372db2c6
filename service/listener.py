"""One uvicorn HTTP server on one socket that can stop listening and listen again.

Used for the service and each OCA, all on one asyncio loop. ``stop(abort=True)``
closes the listening socket and aborts every open connection (the "down" fault:
new connections are refused, open ones reset); ``start()`` re-binds the same port.
Signals are handled by the owner (``service.server``), not by uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from pathlib import Path
from typing import Any, Generator

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("marquee.service.listener")


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with TCP_NODELAY set on every accepted connection, and a read
    deadline: a client has ``read_timeout_s`` from connecting (or from the first byte of its next
    request on a kept-alive connection) to send the whole request, headers and body; then the
    connection is closed. uvicorn alone keeps a client that trickles a byte now and then forever."""

    read_timeout_s = 8.0
    _read_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
        self._arm_read_deadline()

    def data_received(self, data: bytes) -> None:
        if self._read_deadline is None and self.conn.their_state is h11.IDLE:
            self._arm_read_deadline()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE and self.conn.their_state is not h11.SEND_BODY:
            self._disarm_read_deadline()  # the whole request is in (or the connection is over)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_read_deadline()
        super().connection_lost(exc)

    def _arm_read_deadline(self) -> None:
        self._disarm_read_deadline()
        self._read_deadline = self.loop.call_later(self.read_timeout_s, self._read_too_slow)

    def _disarm_read_deadline(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _read_too_slow(self) -> None:
        self._read_deadline = None
        if not self.transport.is_closing():
            log.info("dropped a client that did not send its request in time",
                     extra={"fields": {"client": self.client, "timeout_s": self.read_timeout_s}})
            self.transport.abort()


def protocol_with(read_timeout_s: float) -> type[NoDelayH11Protocol]:
    return type("BoundedH11Protocol", (NoDelayH11Protocol,), {"read_timeout_s": read_timeout_s})


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(256)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class Listener:
    def __init__(self, app: Any, host: str, port: int, *, name: str, keep_alive_s: float = 30.0,
                 read_timeout_s: float = 8.0, limit_concurrency: int | None = 256,
                 tls: tuple[Path, Path] | None = None) -> None:
        self.name = name
        self.host = host
        self.port = port
        self._config = uvicorn.Config(app, host=host, port=port, lifespan="off", access_log=False, log_config=None, interface="asgi3", proxy_headers=False,
                                      http=protocol_with(read_timeout_s), timeout_keep_alive=int(keep_alive_s),
                                      limit_concurrency=limit_concurrency, h11_max_incomplete_event_size=16 * 1024,
                                      ssl_certfile=str(tls[0]) if tls else None, ssl_keyfile=str(tls[1]) if tls else None,
                                      server_header=False, date_header=False)
        self._config.load()
        self._server = _Server(self._config)
        self._server.lifespan = self._config.lifespan_class(self._config)
        self.listening = False

    async def start(self) -> None:
        """Bind (the same port after a stop) and accept connections."""
        if self.listening:
            return
        sock = bind_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        await self._server.startup(sockets=[sock])
        self.listening = True
        log.debug("listening", extra={"fields": {"server": self.name, "port": self.port}})

    def connections(self) -> int:
        return len(self._server.server_state.connections)

    async def stop(self, *, abort: bool = True) -> None:
        """Stop listening; abort (reset) or gracefully close the open connections."""
        if not self.listening:
            return
        self.listening = False
        for server in getattr(self._server, "servers", []):
            server.close()
        for conn in list(self._server.server_state.connections):
            transport = getattr(conn, "transport", None)
            if abort and transport is not None:
                transport.abort()
            else:
                conn.shutdown()
        for server in getattr(self._server, "servers", []):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)
        self._server.servers = []
        log.debug("stopped", extra={"fields": {"server": self.name, "port": self.port}})
