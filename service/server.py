"""Run the service and its OCAs on one asyncio loop.

``ServiceServer`` is the async core (start, stop, url); ``ServiceThread`` runs one
in a background thread for tests and tools in the same process; ``serve_forever``
is what ``marquee serve`` calls.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import signal
import threading
from typing import Any, Callable, Coroutine, TypeVar

from marquee.clock import Clock
from marquee.lifeline import on_stdin_eof
from marquee.private_files import ADMIN_HEADER
from service.app import create_app
from service.config import ServiceConfig
from service.listener import Listener
from service.logs import quiet_uvicorn
from service.runtime import Runtime, create_runtime

log = logging.getLogger("marquee.service")
T = TypeVar("T")


class ServiceServer:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.app = create_app(runtime)
        self.listener = Listener(self.app, runtime.config.host, runtime.config.port, name="service",
                                 read_timeout_s=runtime.config.read_timeout_s,
                                 limit_concurrency=runtime.config.limit_concurrency)

    @property
    def url(self) -> str:
        host = self.runtime.config.host
        host = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
        host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        return f"http://{host}:{self.listener.port}"

    async def start(self) -> None:
        quiet_uvicorn()
        for node in self.runtime.ocas:
            await node.start()
        await self.listener.start()  # last: /health answers only when every OCA listens
        self.runtime.service_port = self.listener.port
        log.info("service ready", extra={"fields": {"url": self.url, "ocas": [o.port for o in self.runtime.ocas]}})

    async def stop(self) -> None:
        await self.listener.stop(abort=True)
        for node in self.runtime.ocas:
            await node.stop()
        if self.runtime.dashboard_pool is not None:
            self.runtime.dashboard_pool.shutdown(wait=False, cancel_futures=True)
        self.runtime.store.close()


async def serve_until(server: ServiceServer, stop: asyncio.Event, on_ready: Callable[[str], None]) -> None:
    await server.start()
    try:
        on_ready(server.url)
        await stop.wait()
    finally:
        await server.stop()


def serve_forever(config: ServiceConfig, *, watch_stdin: bool = False,
                  on_ready: Callable[[str], None] = lambda url: None) -> int:
    """Run until SIGINT/SIGTERM (or EOF on stdin when ``watch_stdin``: the parent died)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # Windows
                signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
        if watch_stdin:
            on_stdin_eof(lambda: loop.call_soon_threadsafe(stop.set))
        server = ServiceServer(create_runtime(config))
        await serve_until(server, stop, on_ready)

    asyncio.run(main())
    return 0


class ServiceThread:
    """The service and its OCAs on a private loop in a daemon thread.

    >>> with ServiceThread(config) as svc:  # doctest: +SKIP
    ...     httpx.get(svc.url + "/health")
    """

    def __init__(self, config: ServiceConfig, clock: Clock | None = None) -> None:
        self.runtime = create_runtime(config, clock)
        self.server = ServiceServer(self.runtime)
        self.loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="marquee-service", daemon=True)
        self.url = ""

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            self._stop = asyncio.Event()

            def ready(url: str) -> None:
                self.url = url
                self._ready.set()

            await serve_until(self.server, self._stop, ready)

        try:
            self.loop.run_until_complete(main())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
        finally:
            self.loop.close()

    @property
    def admin_headers(self) -> dict[str, str]:
        """What a client of the admin API sends (the installation's secret)."""
        return {ADMIN_HEADER: self.runtime.admin_secret}

    def start(self, timeout: float = 15.0) -> "ServiceThread":
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            raise RuntimeError(f"the service did not start: {self._error!r}")
        return self

    def call(self, coro_fn: Callable[[], Coroutine[Any, Any, T]], timeout: float = 10.0) -> T:
        """Run ``await coro_fn()`` on the service loop (e.g. ``lambda: node.set_faults(spec)``)."""
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(coro_fn(), self.loop)
        return future.result(timeout)

    def stop(self) -> None:
        if self._stop is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(10)

    def __enter__(self) -> "ServiceThread":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
