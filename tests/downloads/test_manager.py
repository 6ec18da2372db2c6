"""The download manager against the real service and OCAs (loopback): complete downloads,
encryption at rest, damage detection, pause/resume/remove, ENOSPC and disk-space checks."""

from __future__ import annotations

import errno
import json
import re
import threading
from pathlib import Path

import pytest

from downloads.manager import DownloadProgress, DownloadSettings
from downloads.offline_transport import offline_url
from downloads.plan import MANIFEST
from drm.crypto import HEADER_SIZE
from tests.downloads.conftest import FILM

pytestmark = pytest.mark.slow


def download(d, target: str = FILM, **kw) -> list[DownloadProgress]:
    events: list[DownloadProgress] = []
    row = d.add(target, **kw)
    d.run_blocking(only={row.id}, on_progress=events.append)
    return events


def test_download_completes_with_progress_and_the_chosen_tracks(svc, make_downloads):
    d = make_downloads(svc)
    events = download(d, quality="360p", audio=["fr"], subtitles=["en"])
    info = d.info(FILM)
    assert info.state == "completed" and info.percent == 100.0
    assert info.height == 360 and info.audio == ("fr",) and info.subtitles == ("en",)
    assert info.files_done == info.files_total == 1 + 2 * (1 + 8) + 1  # manifest, video+audio (init+8), subs
    assert info.bytes == sum(p.stat().st_size for p in Path(info.path).iterdir())
    assert info.license.license_remaining_s > 29 * 86400 and info.license.playback_remaining_s is None
    running = [e for e in events if e.state == "downloading" and e.files_done > 1]
    assert running and all(0 < e.percent < 100 and e.bytes_done > 0 for e in running)
    assert any(e.speed_bps > 0 and e.eta_s is not None for e in running)
    assert events[-1].state == "completed"
    assert d.storage().total_bytes == info.bytes and d.storage().per_title == {FILM: info.bytes}
    assert d.verify(FILM) == []
    # the stored manifest keeps only what was chosen
    from downloads.offline import prepare_playback
    import asyncio, httpx

    play = prepare_playback(d, FILM, online=False)

    async def get(path: str) -> httpx.Response:
        async with httpx.AsyncClient(mounts={"http://offline.marquee.invalid/": play.transport}) as client:
            return await client.get(offline_url(FILM, path))

    mpd = asyncio.run(get(MANIFEST)).text
    assert re.findall(r'Representation id="([^"]+)"', mpd) == ["1", "4", "s-en"]
    assert 'lang="fr"' in mpd and 'lang="en"' in mpd  # French audio, English subtitles


def scan_plaintext(folder: Path, secrets: list[bytes]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        for sig in (b"ftyp", b"moof", b"styp", b"mdat", b"WEBVTT", b"<MPD", b"urn:mpeg:dash"):
            if sig in data:
                found.append(f"{path.name}: {sig!r}")
        for off in range(188):  # MPEG-TS: sync byte 0x47 every 188 bytes
            if len(data) > off + 188 * 4 and all(data[off + 188 * k] == 0x47 for k in range(5)):
                found.append(f"{path.name}: TS sync at {off}")
                break
        for secret in secrets:
            if secret in data:
                found.append(f"{path.name}: key material")
    return found


def test_no_plaintext_media_or_key_material_on_disk(svc, make_downloads, tmp_path, home):
    d = make_downloads(svc)
    download(d, quality="max", subtitles=["en"])
    row = d.journal.get(FILM)
    key = d.drm.content_key(row.license)
    priv = d.drm.keys().private.private_bytes_raw()
    import base64

    secrets = [key, priv, base64.b64encode(key), base64.b64encode(priv), key.hex().encode(), priv.hex().encode()]
    device = tmp_path / "dev-test"  # downloads, journal, drm folder: everything of this device
    assert scan_plaintext(device, secrets) == [] and scan_plaintext(home, secrets) == []
    # the scan can fail: it finds a plaintext segment, and the service's own key store
    (device / "leak.m4s").write_bytes(b"\0\0\0\x18styp" + b"\0" * 32)
    assert scan_plaintext(device, secrets) == ["leak.m4s: b'styp'"]
    assert any("key material" in x for x in scan_plaintext(tmp_path, secrets))


def test_a_flipped_byte_is_detected(svc, make_downloads):
    d = make_downloads(svc)
    download(d)
    files = d.journal.files(FILM, done=True)
    victim = next(f for f in files if f.kind == "media")
    path = Path(d.journal.get(FILM).path) / __import__("downloads.plan", fromlist=["stored_name"]).stored_name(victim.path)
    data = bytearray(path.read_bytes())
    data[HEADER_SIZE + len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))
    assert d.verify(FILM) == [victim.path]


def test_pause_resume_and_remove_releases_the_license(svc, make_downloads):
    d = make_downloads(svc)
    node = svc.runtime.ocas
    from service.faults import FaultSpec

    for n in node:  # slow enough to pause in the middle
        svc.call(lambda n=n: n.set_faults(FaultSpec(throughput_kbps=8000)))
    row = d.add(FILM, quality="max")
    paused = threading.Event()

    def on_progress(p: DownloadProgress) -> None:
        if p.files_done >= 4 and not paused.is_set():
            paused.set()
            d.pause(FILM)

    d.run_blocking(only={FILM}, on_progress=on_progress)
    info = d.info(FILM)
    assert info.state == "paused" and 4 <= info.files_done < info.files_total
    for n in node:
        svc.call(lambda n=n: n.set_faults(FaultSpec()))
    d.resume(FILM)
    d.run_blocking(only={FILM})
    assert d.info(FILM).state == "completed" and d.verify(FILM) == []
    assert d.remove(FILM) is True
    assert not Path(row.path).exists() and d.list() == []
    states = {x.id: x.state for x in svc.runtime.store.licenses_of_account(svc.runtime.store.account_by_email(
        "demo@marquee.test").id)}
    assert states[row.license_id] == "released"


def test_releases_made_offline_are_sent_later(svc, make_downloads):
    d = make_downloads(svc)
    download(d)
    license_id = d.journal.get(FILM).license_id
    link_factory = d.link_factory
    d.link_factory, d._link = None, None  # offline
    assert d.remove(FILM) is False
    assert d.journal.pending_releases() == [license_id]
    d.link_factory = link_factory
    assert d.flush_releases() == 1 and d.journal.pending_releases() == []
    store = svc.runtime.store
    assert store.license(license_id).state == "released"


class FullDisk:
    """A writer that fails with ENOSPC after ``ok`` files (and leaves nothing behind, like AtomicWriter)."""

    def __init__(self, ok: int) -> None:
        self.ok = ok
        from downloads.storage import AtomicWriter

        self.inner = AtomicWriter()

    def write(self, path: Path, data: bytes) -> None:
        if self.ok <= 0:
            path.with_name(path.name + ".part").write_bytes(data[: len(data) // 2])  # half-written...
            path.with_name(path.name + ".part").unlink()  # ...and cleaned up as the real writer does
            raise OSError(errno.ENOSPC, "No space left on device")
        self.ok -= 1
        self.inner.write(path, data)

    def sync(self, folder: Path) -> None:
        self.inner.sync(folder)


def test_enospc_pauses_cleanly_and_resume_finishes(svc, make_downloads):
    writer = FullDisk(ok=6)  # the manifest + 5 files
    d = make_downloads(svc, writer=writer, settings=DownloadSettings(parallel_segments=1, reserve_bytes=0))
    download(d)
    info = d.info(FILM)
    assert info.state == "paused" and "disk is full" in info.message.lower()
    done = {f.path for f in d.journal.files(FILM, done=True)}
    assert len(done) == 6
    folder = Path(info.path)
    assert not list(folder.glob("*.part"))
    from downloads.plan import stored_name

    assert {p.name for p in folder.iterdir()} == {stored_name(p) for p in done}  # nothing else looks complete
    assert d.verify(FILM) == []
    writer.ok = 10_000
    d.resume(FILM)
    d.run_blocking(only={FILM})
    assert d.info(FILM).state == "completed" and d.verify(FILM) == []


def test_too_little_free_space_pauses_before_starting(svc, make_downloads):
    d = make_downloads(svc, space=lambda path: 1_000_000)
    download(d, quality="max")
    info = d.info(FILM)
    assert info.state == "paused" and "disk" in info.message.lower()
    assert info.files_done == 1  # only the manifest


def test_refusals_from_the_service_reach_the_user(svc, make_downloads):
    svc.runtime.store.set_meta("license_policy", json.dumps({"not_downloadable": [FILM]}))
    d = make_downloads(svc)
    from marquee.errors import MarqueeError

    with pytest.raises(MarqueeError) as err:
        d.add(FILM)
    assert err.value.code == "not_downloadable" and "streamed but not downloaded" in err.value.user_message
    assert d.list() == []


class RecordingWriter:
    """The real writer, with every write, directory sync and journal commit in order."""

    def __init__(self) -> None:
        from downloads.storage import AtomicWriter

        self.inner = AtomicWriter()
        self.events: list[tuple[str, object]] = []

    def write(self, path: Path, data: bytes) -> None:
        self.inner.write(path, data)
        self.events.append(("write", path.name))

    def sync(self, folder: Path) -> None:
        self.inner.sync(folder)
        self.events.append(("sync", folder))


def test_a_file_is_recorded_only_after_its_write_and_a_later_directory_sync(svc, make_downloads):
    from downloads.plan import stored_name

    writer = RecordingWriter()
    d = make_downloads(svc, writer=writer, settings=DownloadSettings(parallel_segments=6, reserve_bytes=0))
    original = d.journal.mark_done_many

    def spy(did, done):
        writer.events.append(("commit", [stored_name(p) for p, _, _ in done]))
        original(did, done)

    d.journal.mark_done_many = spy
    download(d, quality="max")
    assert d.info(FILM).state == "completed"
    commits = [e for e in writer.events if e[0] == "commit"]
    assert sum(len(names) for _, names in commits) == d.info(FILM).files_total
    for i, (kind, names) in enumerate(writer.events):
        if kind != "commit":
            continue
        before = writer.events[:i]
        for name in names:
            written_at = max(j for j, e in enumerate(before) if e == ("write", name))
            assert any(e[0] == "sync" for e in before[written_at + 1:]), f"{name} recorded before a directory sync"


def test_a_complete_but_unrecorded_file_is_removed_and_fetched_again(svc, make_downloads):
    """kill -9 between a file's rename and its journal commit leaves a whole file nobody vouches for."""
    from downloads.plan import stored_name

    d = make_downloads(svc)
    row = d.add(FILM, quality="low")
    victim = next(f for f in d.journal.files(FILM, done=False) if f.kind == "media")
    orphan = Path(row.path) / stored_name(victim.path)
    orphan.write_bytes(b"left by a crash")
    (Path(row.path) / "other.mqe").write_bytes(b"stray")
    seen = spy_paths(svc)
    d.run_blocking(only={FILM})
    assert d.info(FILM).state == "completed" and d.verify(FILM) == []
    assert victim.path in seen and orphan.read_bytes() != b"left by a crash"
    assert {p.name for p in Path(row.path).iterdir()} == {stored_name(f.path) for f in d.journal.files(FILM)}


def spy_paths(svc) -> list[str]:
    from tests.downloads.test_cli import spy_on_ocas

    return spy_on_ocas(svc)
