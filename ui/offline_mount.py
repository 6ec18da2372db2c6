"""A slot on the engine's HTTP client where an offline title's transport is plugged in.

The engine's transports are fixed when it is built (its HTTP client is created at
``prepare()``); offline titles are chosen later. ``OfflineMount`` is mounted at
``downloads.offline_transport.OFFLINE_ORIGIN`` once, and each offline playback sets
the ``OfflineTransport`` that ``downloads.offline.prepare_playback`` returned.
"""

from __future__ import annotations

import httpx

from marquee.errors import NetworkError


class OfflineMount(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self._inner: httpx.AsyncBaseTransport | None = None

    def set(self, transport: httpx.AsyncBaseTransport | None) -> None:
        self._inner = transport

    @property
    def current(self) -> httpx.AsyncBaseTransport | None:
        return self._inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        inner = self._inner
        if inner is None:
            raise NetworkError(f"no offline title is mounted for {request.url}",
                               user_message="This download is not open: play it again from Downloads.")
        return await inner.handle_async_request(request)

    async def aclose(self) -> None:
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.aclose()
