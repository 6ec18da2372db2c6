"""Where the engine's client may be redirected, and how large a segment may be (issue 18)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from player import net
from player.net import HARD_CAP_BYTES, RedirectRefused, check_redirect, segment_cap


def _client() -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        host, path = request.url.host, request.url.path
        if path == "/moved":  # user's URL: the stream lives on the CDN
            return httpx.Response(302, headers={"location": "http://cdn.test/stream/manifest.mpd"})
        if path == "/local":
            return httpx.Response(301, headers={"location": "/elsewhere"})
        if path == "/away":
            return httpx.Response(302, headers={"location": "http://evil.test/x"})
        if path == "/to-cdn":
            return httpx.Response(302, headers={"location": "http://cdn.test/seg.m4s"})
        return httpx.Response(200, text=f"{host}{path}")

    return httpx.AsyncClient(transport=httpx.MockTransport(handle), follow_redirects=True,
                             event_hooks={"response": [check_redirect]})


def test_redirects_stay_on_their_origin() -> None:
    async def main() -> None:
        net.start_playback_scope()
        async with _client() as client:
            assert (await client.get("http://origin.test/local")).text == "origin.test/elsewhere"
            with pytest.raises(RedirectRefused, match="evil.test"):
                await client.get("http://origin.test/away")

    asyncio.run(main())


def test_the_users_own_url_may_redirect_and_its_target_is_trusted_after() -> None:
    async def main() -> None:
        net.start_playback_scope()
        async with _client() as client:
            with pytest.raises(RedirectRefused):  # before: the CDN is a stranger
                await client.get("http://origin.test/to-cdn")
            token = net.following_user_url(True)
            try:
                assert (await client.get("http://origin.test/moved")).text == "cdn.test/stream/manifest.mpd"
            finally:
                net.stop_following_user_url(token)
            assert (await client.get("http://origin.test/to-cdn")).text == "cdn.test/seg.m4s"
            with pytest.raises(RedirectRefused):  # that host only
                await client.get("http://origin.test/away")

    asyncio.run(main())


def test_trust_belongs_to_one_playback() -> None:
    async def playback(user_redirects: bool) -> str:
        net.start_playback_scope()
        async with _client() as client:
            if user_redirects:
                token = net.following_user_url(True)
                await client.get("http://origin.test/moved")
                net.stop_following_user_url(token)
            try:
                return (await client.get("http://origin.test/to-cdn")).text
            except RedirectRefused:
                return "refused"

    async def main() -> list[str]:
        return list(await asyncio.gather(playback(True), playback(False)))

    assert asyncio.run(main()) == ["cdn.test/seg.m4s", "refused"]


def test_segment_cap_follows_the_manifest_with_a_margin_and_a_hard_limit() -> None:
    assert segment_cap(5_000_000, 4.0) == int(5_000_000 / 8 * 4 * net.SIZE_MARGIN + net.SIZE_SLACK_BYTES)
    assert segment_cap(400_000, 0.0) == net.SIZE_SLACK_BYTES
    assert segment_cap(10_000_000_000, 10.0) == HARD_CAP_BYTES
