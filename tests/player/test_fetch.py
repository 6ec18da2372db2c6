import asyncio
import random
import socket

import httpx
import pytest

from marquee.clock import SystemClock
from player.events import PlayerEvent
from player.fetch import Fetcher, FetchResult, FetchTarget, OcaPool
from player.oca.ranking import OcaRanker

from tests.player.fake_http import Behaviour, FakeOca

BODY = bytes(range(256)) * 2048  # 512 KiB


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


async def make_fetcher(bases: dict[str, str], events: list[PlayerEvent], **kw) -> tuple[Fetcher, httpx.AsyncClient]:
    client = httpx.AsyncClient()
    fetcher = Fetcher(
        client,
        OcaPool(dict(bases)),
        OcaRanker(list(bases)),
        SystemClock(),
        events.append,
        rng=random.Random(1),
        **kw,
    )
    return fetcher, client


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=30))


def fetch_past(behaviour: Behaviour) -> tuple[FetchResult, list[PlayerEvent], Fetcher, FakeOca]:
    """Fetch one object with a failing OCA ("bad", ranked first) and a healthy one ("good")."""

    async def scenario():
        bad = await FakeOca(BODY, behaviour).start()
        good = await FakeOca(BODY).start()
        events: list[PlayerEvent] = []
        fetcher, client = await make_fetcher({"bad": bad.base_url, "good": good.base_url}, events)
        async with client:
            result = await fetcher.fetch(FetchTarget("seg.m4s"))
        return result, events, fetcher, good

    return run(scenario())


def test_refused_connection_fails_over_at_once_and_reports_the_cost():
    async def scenario():
        good = await FakeOca(BODY).start()
        events: list[PlayerEvent] = []
        fetcher, client = await make_fetcher({"dead": closed_port_url(), "good": good.base_url}, events)
        async with client:
            result = await fetcher.fetch(FetchTarget("seg-1.m4s"))
        await good.close()
        return result, events

    result, events = run(scenario())
    assert result.data == BODY
    assert result.oca == "good"
    assert result.failovers == 1
    (failover,) = [e for e in events if e.kind == "failover"]
    assert failover.data["from_oca"] == "dead" and failover.data["to_oca"] == "good"
    assert "connection failed" in failover.data["reason"]
    assert failover.data["cost_ms"] < 1000


@pytest.mark.parametrize("status", [500, 503, 404, 410])
def test_server_errors_and_missing_objects_fail_over(status):
    result, events, fetcher, _ = fetch_past(Behaviour(status=status))
    assert result.oca == "good" and result.data == BODY
    assert f"http {status}" in [e for e in events if e.kind == "failover"][0].data["reason"]
    assert fetcher.ranker.is_benched("bad", fetcher.clock.monotonic())


def test_a_stalled_oca_is_abandoned_quickly_and_the_segment_continues_with_a_range_request():
    result, events, _, good = fetch_past(Behaviour(stall_after=200_000))
    assert result.data == BODY
    (failover,) = [e for e in events if e.kind == "failover"]
    assert failover.data["reason"].startswith("stalled") and failover.data["from_oca"] == "bad"
    assert failover.data["cost_ms"] <= 1600  # stall detection (<= 1.5 s) + the next first byte
    # Continued, not restarted: the good OCA was asked only for what was missing.
    assert good.requests[-1]["range"].startswith("bytes=")
    assert int(good.requests[-1]["range"][6:].rstrip("-")) >= 65536


def test_a_truncated_body_is_completed_from_the_next_oca():
    result, events, _, good = fetch_past(Behaviour(truncate_after=100_000))
    assert result.data == BODY
    assert result.oca == "good"
    assert "truncated" in events[0].data["reason"] or "broken" in events[0].data["reason"]
    assert good.requests[-1]["range"].startswith("bytes=")  # continued, not refetched whole


def test_byte_range_targets_are_requested_as_ranges():
    async def scenario():
        oca = await FakeOca(BODY).start()
        fetcher, client = await make_fetcher({"a": oca.base_url}, [])
        async with client:
            result = await fetcher.fetch(FetchTarget("file.mp4", byte_range=(1000, 1999)))
        return result, oca

    result, oca = run(scenario())
    assert result.data == BODY[1000:2000]
    assert oca.requests[0]["range"] == "bytes=1000-1999"


def test_a_refused_token_is_refreshed_then_retried_on_the_same_oca():
    async def scenario():
        oca = await FakeOca(BODY, Behaviour(status=403)).start()
        refreshed: list[bool] = []

        async def refresh() -> dict[str, str]:
            refreshed.append(True)
            oca.behaviour = Behaviour()
            return {"a": oca.base_url + "new-token/"}

        fetcher, client = await make_fetcher({"a": oca.base_url}, [], refresh=refresh)
        async with client:
            result = await fetcher.fetch(FetchTarget("seg.m4s"))
        return result, refreshed, oca

    result, refreshed, oca = run(scenario())
    assert refreshed == [True]
    assert result.data == BODY
    assert oca.requests[-1]["path"] == "/new-token/seg.m4s"


def test_all_ocas_down_backs_off_and_recovers_when_one_returns():
    async def scenario():
        url = closed_port_url()
        port = int(url.rsplit(":", 1)[1].strip("/"))
        events: list[PlayerEvent] = []
        fetcher, client = await make_fetcher({"a": url}, events)

        async def come_back_later() -> asyncio.AbstractServer:
            await asyncio.sleep(1.0)
            oca = FakeOca(BODY)
            oca.server = await asyncio.start_server(oca._handle, "127.0.0.1", port)
            return oca.server

        revival = asyncio.create_task(come_back_later())
        async with client:
            result = await fetcher.fetch(FetchTarget("seg.m4s"))
        (await revival).close()
        return result, events

    result, events = run(scenario())
    assert result.data == BODY
    down = [e for e in events if e.kind == "error" and e.data["code"] == "all_ocas_down"]
    assert down and all(e.data["recoverable"] for e in down)


def test_when_every_oca_is_down_the_fetcher_asks_where_they_went():
    """The service was restarted: its OCAs came back on other ports. After a backoff round the
    fetcher asks (the same hook that refreshes signed URLs) and continues there."""
    async def scenario():
        moved = await FakeOca(BODY).start()
        asked: list[int] = []

        async def refresh() -> dict[str, str]:
            asked.append(1)
            return {"a": moved.base_url, "b": moved.base_url}

        events: list[PlayerEvent] = []
        fetcher, client = await make_fetcher({"a": closed_port_url(), "b": closed_port_url()}, events, refresh=refresh)
        async with client:
            result = await fetcher.fetch(FetchTarget("seg.m4s"))
        await moved.close()
        return result, events, asked

    result, events, asked = run(scenario())
    assert result.data == BODY and asked
    assert any(e.kind == "error" and e.data["code"] == "all_ocas_down" for e in events)


def test_the_progress_callback_can_abandon_a_download():
    from player.fetch import FetchAbandoned

    async def scenario():
        oca = await FakeOca(BODY).start()
        fetcher, client = await make_fetcher({"a": oca.base_url}, [])
        async with client:
            await fetcher.fetch(FetchTarget("seg.m4s"), on_progress=lambda p: p.nbytes > 100_000)

    with pytest.raises(FetchAbandoned):
        run(scenario())


def test_time_to_first_byte_ends_with_the_headers_not_the_first_buffered_body_chunk():
    """A body that trickles in (a shaped link) must not be reported as all-TTFB: the ABR
    estimator divides the bytes by the transfer time."""

    class Trickle(httpx.AsyncByteStream):
        async def __aiter__(self):
            for _ in range(5):
                await asyncio.sleep(0.05)
                yield b"x" * 10_000

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-length": "50000"}, stream=Trickle())

    async def scenario():
        events: list[PlayerEvent] = []
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        fetcher = Fetcher(client, OcaPool({"a": "http://oca.test/"}), OcaRanker(["a"]), SystemClock(),
                          events.append, rng=random.Random(1))
        async with client:
            return await fetcher.fetch(FetchTarget("seg.m4s"))

    result = run(scenario())
    assert len(result.data) == 50_000
    assert result.ttfb_s < 0.1, result
    assert result.transfer_s > 0.18, result
