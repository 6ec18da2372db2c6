"""HLS downloads: the plan (pure, on the quick demo content's playlists), then a download of the
HLS variant from the service, encrypted at rest, played offline through the engine and mpv."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from downloads.plan_hls import plan_download_hls
from marquee.errors import ManifestError
from player.manifest.hls import parse_hls_media, parse_hls_multivariant
from service.server import ServiceThread
from tests.downloads.conftest import FILM, start_service

BASE = "http://oca.test/c/token/m0/"


def getter(quick_content: Path) -> Callable[[str], bytes]:
    media = quick_content / "media" / "m0"

    def get(url: str) -> bytes:
        assert url.startswith(BASE), url
        return (media / url[len(BASE):]).read_bytes()

    return get


def plan(quick_content: Path, **kw):
    get = getter(quick_content)
    kw.setdefault("quality", "720p")
    kw.setdefault("audio", ["en"])
    kw.setdefault("subtitles", [])
    return plan_download_hls(get(BASE + "master.m3u8"), BASE + "master.m3u8", get, **kw)


def test_the_plan_keeps_one_variant_the_chosen_audio_and_subtitles(quick_content):
    p = plan(quick_content, quality="720p", audio=["fr", "en"], subtitles=["en"])
    assert (p.height, p.audio, p.subtitles, p.manifest_path) == (720, ("fr", "en"), ("en",), "master.m3u8")
    mv = parse_hls_multivariant(p.manifest, BASE + "master.m3u8")
    assert [v.ref for v in mv.variants] == ["v720/playlist.m3u8"]
    kept = {(r.type, r.language, r.default) for r in mv.renditions}
    assert kept == {("AUDIO", "fr", True), ("AUDIO", "en", False), ("SUBTITLES", "en", False)}
    stored = dict(p.stored)
    assert set(stored) == {"master.m3u8", "v720/playlist.m3u8", "a-en/playlist.m3u8", "a-fr/playlist.m3u8",
                           "subs/en.m3u8"}
    by_kind: dict[str, list[str]] = {}
    for f in p.files:
        by_kind.setdefault(f.kind, []).append(f.path)
    assert by_kind["init"] == ["v720/init.mp4", "a-en/init.mp4", "a-fr/init.mp4"]
    assert len(by_kind["media"]) == 3 * 8 and by_kind["text"] == ["subs/en.vtt"]
    # every reference of every stored playlist is a planned file (nothing points at the network)
    planned = {f.path for f in p.files}
    for path, data in stored.items():
        if path != "master.m3u8":
            pl = parse_hls_media(data, BASE + path)
            refs = [s.url for s in pl.segments] + ([pl.init.url] if pl.init else [])
            assert {u[len(BASE):] for u in refs} <= planned


def test_without_subtitles_the_variant_loses_its_subtitle_group_and_unknown_audio_falls_back(quick_content):
    p = plan(quick_content, quality="low", audio=["de"], subtitles=[])
    text = p.manifest.decode()
    assert "SUBTITLES" not in text and "#EXT-X-MEDIA:TYPE=AUDIO" in text and p.audio == ("en",)
    assert p.height == 144 and text.count("#EXT-X-STREAM-INF") == 1
    parse_hls_multivariant(p.manifest, BASE + "master.m3u8")  # still valid


@pytest.mark.parametrize("edit, reason", [
    (lambda pl: pl.replace("#EXT-X-MAP", '#EXT-X-KEY:METHOD=AES-128,URI="k.bin"\n#EXT-X-MAP'), "encrypted"),
    (lambda pl: pl.replace("#EXT-X-ENDLIST", "").replace("#EXT-X-PLAYLIST-TYPE:VOD\n", ""), "live"),
    (lambda pl: pl.replace("seg-2.m4s", "http://elsewhere.test/seg-2.m4s", 1), "only relative paths"),
    (lambda pl: pl.replace("seg-2.m4s", "../../../etc/seg-2.m4s", 1), "outside the title"),
])
def test_what_cannot_be_stored_is_refused_with_the_reason(quick_content, edit, reason):
    get = getter(quick_content)

    def edited(url: str) -> bytes:
        data = get(url)
        return edit(data.decode()).encode() if url.endswith("v720/playlist.m3u8") else data

    with pytest.raises(ManifestError) as err:
        plan_download_hls(get(BASE + "master.m3u8"), BASE + "master.m3u8", edited, quality="720p", audio=["en"],
                          subtitles=[])
    assert reason in err.value.message


@pytest.fixture
def quick_svc(tmp_path: Path, quick_content: Path, dl_catalog: Path) -> Iterator[ServiceThread]:
    service = start_service(tmp_path / "service.sqlite3", quick_content, dl_catalog)
    yield service
    service.stop()


@pytest.mark.slow
@pytest.mark.mpv
def test_an_hls_download_is_encrypted_at_rest_and_plays_offline_to_the_end(quick_svc, make_downloads, tmp_path):
    from downloads.offline import prepare_playback
    from tests.downloads.test_manager import scan_plaintext
    from tests.downloads.test_offline_play import Play

    d = make_downloads(quick_svc)
    row = d.add(FILM, quality="360p", audio=["fr"], subtitles=["en"], format="hls")
    d.run_blocking(only={FILM})
    info = d.info(FILM)
    assert info.state == "completed" and info.format == "hls" and info.manifest == "master.m3u8"
    assert (info.height, info.audio, info.subtitles) == (360, ("fr",), ("en",))
    assert info.files_done == info.files_total == 1 + 3 + 2 * (1 + 8) + 1  # master, 3 playlists, video+audio, vtt
    assert d.verify(FILM) == []
    key = d.drm.content_key(row.license)
    assert scan_plaintext(tmp_path / "dev-test", [key]) == []
    for path in Path(row.path).iterdir():
        assert b"#EXTM3U" not in path.read_bytes() and b"#EXTINF" not in path.read_bytes()
    quick_svc.stop()  # network off
    prepared = prepare_playback(d, FILM)
    assert prepared.request.manifest_url.endswith(f"/{FILM}/master.m3u8")
    play = Play(prepared)
    summary, snap = play.finish()
    assert summary.ok, summary.errors
    assert summary.played_s == pytest.approx(16.0, abs=0.8)
    assert summary.stall_count == 0
    assert len([e for e in play.events if e.kind == "segment" and e.data.get("media") == "video"]) == 8
