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
from tests.downloads.conftest import FILM, flip_stored_byte

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
        for sig in (b"WEBVTT", b"<MPD", b"urn:mpeg:dash"):
            if sig in data:
                found.append(f"{path.name}: {sig!r}")
        for sig in (b"ftyp", b"moof", b"styp", b"mdat"):  # an MP4 box: its size field before the type
            # (a bare 4-byte match is expected by chance in a few MB of ciphertext: ~1 run in 250)
            at = data.find(sig, 4)
            while at != -1:
                size = int.from_bytes(data[at - 4:at], "big")
                if 8 <= size <= len(data) - at + 4 and (sig != b"mdat" or size > 16):
                    found.append(f"{path.name}: {sig!r}")
                    break
                at = data.find(sig, at + 1)
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
    # the service keeps content keys wrapped (issue 18): its database holds none in clear either
    assert not any("key material" in x for x in scan_plaintext(Path(svc.runtime.config.db_path).parent, secrets))
    # the scan can fail: it finds a plaintext segment, and a key written in clear
    (device / "leak.m4s").write_bytes(b"\0\0\0\x18styp" + b"\0" * 32)
    assert scan_plaintext(device, secrets) == ["leak.m4s: b'styp'"]
    (tmp_path / "plain.key").write_bytes(key.hex().encode())
    assert any("key material" in x for x in scan_plaintext(tmp_path, secrets))


def test_a_flipped_byte_is_detected(svc, make_downloads):
    d = make_downloads(svc)
    download(d)
    files = d.journal.files(FILM, done=True)
    victim = next(f for f in files if f.kind == "media")
    assert victim.pack_offset is not None  # fetched files live in the title's pack
    flip_stored_byte(d, FILM, victim.path, HEADER_SIZE + (victim.stored_bytes or 0) // 3)
    assert d.verify(FILM) == [victim.path]
    manifest = next(f for f in files if f.kind == "manifest")
    flip_stored_byte(d, FILM, manifest.path, 5)  # an own file: its header
    assert d.verify(FILM) == [manifest.path, victim.path]


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
    """The real writer, with a disk that fills up after ``ok`` blobs in the pack: the next
    write gets half its bytes down, then ENOSPC (as a real full disk does)."""

    def __init__(self, ok: int) -> None:
        from downloads.storage import AtomicWriter

        self.ok = ok
        self.inner = AtomicWriter()

    def write(self, path: Path, data: bytes) -> None:
        self.inner.write(path, data)

    def sync(self, folder: Path) -> None:
        self.inner.sync(folder)

    def open_pack(self, path: Path, size: int):
        disk, pack = self, self.inner.open_pack(path, size)

        class Filling:
            def write_at(self, offset: int, data: bytes) -> None:
                if disk.ok <= 0:
                    pack.write_at(offset, data[: len(data) // 2])
                    raise OSError(errno.ENOSPC, "No space left on device")
                disk.ok -= 1
                pack.write_at(offset, data)

            def __getattr__(self, name: str):
                return getattr(pack, name)

        return Filling()


def test_enospc_pauses_cleanly_and_resume_finishes(svc, make_downloads):
    from downloads.plan import stored_name
    from downloads.storage import PACK_NAME

    writer = FullDisk(ok=5)
    d = make_downloads(svc, writer=writer, settings=DownloadSettings(parallel_segments=1, reserve_bytes=0))
    download(d)
    info = d.info(FILM)
    assert info.state == "paused" and "disk is full" in info.message.lower()
    done = d.journal.files(FILM, done=True)
    assert len(done) == 6  # the manifest + 5 blobs
    folder = Path(info.path)
    assert not list(folder.glob("*.part"))
    own = {stored_name(f.path) for f in done if f.pack_offset is None}
    assert {p.name for p in folder.iterdir()} == own | {PACK_NAME}  # nothing else looks complete
    assert (folder / PACK_NAME).stat().st_size == d.journal.pack_end(FILM)  # the half-written blob is gone
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
    """The real writer, with every pack write, pack flush and journal commit in order."""

    def __init__(self) -> None:
        from downloads.storage import AtomicWriter

        self.inner = AtomicWriter()
        self.events: list[tuple[str, object]] = []

    def write(self, path: Path, data: bytes) -> None:
        self.inner.write(path, data)

    def sync(self, folder: Path) -> None:
        self.inner.sync(folder)

    def open_pack(self, path: Path, size: int):
        events, pack = self.events, self.inner.open_pack(path, size)

        class Recording:
            def write_at(self, offset: int, data: bytes) -> None:
                pack.write_at(offset, data)
                events.append(("write", offset))

            def flush(self) -> None:
                pack.flush()
                events.append(("flush", None))

            def __getattr__(self, name: str):
                return getattr(pack, name)

        return Recording()


def test_a_file_is_recorded_only_after_its_write_and_a_later_flush(svc, make_downloads):
    writer = RecordingWriter()
    d = make_downloads(svc, writer=writer, settings=DownloadSettings(parallel_segments=6, reserve_bytes=0))
    original = d.journal.mark_done_many

    def spy(did, done):
        writer.events.append(("commit", [offset for _, _, _, offset in done if offset is not None]))
        original(did, done)

    d.journal.mark_done_many = spy
    download(d, quality="max")
    assert d.info(FILM).state == "completed"
    commits = [e for e in writer.events if e[0] == "commit"]
    assert sum(len(offsets) for _, offsets in commits) == d.info(FILM).files_total - 1  # all but the manifest
    for i, (kind, offsets) in enumerate(writer.events):
        if kind != "commit":
            continue
        before = writer.events[:i]
        for offset in offsets:
            written_at = max(j for j, e in enumerate(before) if e == ("write", offset))
            assert any(e[0] == "flush" for e in before[written_at + 1:]), f"blob at {offset} recorded before a flush"


def test_what_a_crash_left_unrecorded_is_dropped_and_fetched_again(svc, make_downloads):
    """kill -9 after a blob's write (or an own file's rename) but before the journal commit
    leaves bytes nobody vouches for: cut off the pack, removed from the folder."""
    from downloads.plan import stored_name
    from downloads.storage import PACK_NAME

    d = make_downloads(svc)
    row = d.add(FILM, quality="low")
    victim = next(f for f in d.journal.files(FILM, done=False) if f.kind == "media")
    folder = Path(row.path)
    (folder / PACK_NAME).write_bytes(b"left by a crash" * 1000)
    (folder / stored_name(victim.path)).write_bytes(b"an own file left by a crash")
    (folder / "other.mqe").write_bytes(b"stray")
    seen = spy_paths(svc)
    d.run_blocking(only={FILM})
    assert d.info(FILM).state == "completed" and d.verify(FILM) == []
    assert victim.path in seen
    assert b"left by a crash" not in (folder / PACK_NAME).read_bytes()
    assert (folder / PACK_NAME).stat().st_size == d.journal.pack_end(FILM)
    own = {stored_name(f.path) for f in d.journal.files(FILM) if f.pack_offset is None}
    assert {p.name for p in folder.iterdir()} == own | {PACK_NAME}


def spy_paths(svc) -> list[str]:
    from tests.downloads.test_cli import spy_on_ocas

    return spy_on_ocas(svc)


def test_an_internal_error_fails_the_title_instead_of_restarting_it_forever(svc, make_downloads):
    from downloads.storage import AtomicWriter

    class Broken(AtomicWriter):
        def open_pack(self, path: Path, size: int):
            raise RuntimeError("a bug")

    d = make_downloads(svc, writer=Broken())
    download(d, quality="low")  # returns: the title is not restarted in a loop
    info = d.info(FILM)
    assert info.state == "failed" and "internal error" in info.message
