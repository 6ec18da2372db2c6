"""Fixtures for downloads: content with two audio languages and subtitles (derived from the
player's generated ``service_content``), the reference service in-process, a ``Downloads``
with an in-memory keyring."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable, Iterator

import pytest

from downloads.api import Downloads
from downloads.context import DrmContext
from downloads.journal import Journal
from downloads.manager import DownloadSettings
from downloads.online import OnlineLink
from marquee.api import ServiceClient
from service.config import ServiceConfig
from service.server import ServiceThread
from tests.drm.memory_keyring import MemoryKeyring
from tests.player.conftest import media_root, service_content  # noqa: F401  (fixtures)
from tests.service.fakes import make_catalog

FILM = "t001"
VTT = "WEBVTT\n\n1\n00:00:01.000 --> 00:00:03.000\nHello offline world\n\n2\n00:00:09.000 --> 00:00:11.000\nStill here\n"


@pytest.fixture(scope="session")
def dl_content(service_content: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """``service_content`` plus French audio (the same AAC) and English WebVTT subtitles."""
    root = tmp_path_factory.mktemp("dl-content") / "content"
    shutil.copytree(service_content, root)
    mpd_path = root / "media" / "m0" / "manifest.mpd"
    mpd = mpd_path.read_text()
    head, sep, tail = mpd.partition('<AdaptationSet id="1" contentType="audio"')
    assert sep, "unexpected MPD layout"
    audio_set = sep + tail[: tail.index("</AdaptationSet>") + len("</AdaptationSet>")]
    french = (audio_set.replace('id="1" contentType="audio"', 'id="2" contentType="audio" lang="fr"')
              .replace('Representation id="3"', 'Representation id="4"')
              .replace("$RepresentationID$", "3"))
    english = audio_set.replace('id="1" contentType="audio"', 'id="1" contentType="audio" lang="en"')
    text = ('<AdaptationSet id="3" contentType="text" mimeType="text/vtt" lang="en">'
            '<Representation id="s-en" bandwidth="256"><BaseURL>subs/en.vtt</BaseURL></Representation>'
            '</AdaptationSet>')
    mpd = head + english + french + text + tail[tail.index("</AdaptationSet>") + len("</AdaptationSet>"):]
    mpd_path.write_text(mpd)
    (root / "media" / "m0" / "subs").mkdir()
    (root / "media" / "m0" / "subs" / "en.vtt").write_text(VTT)
    build = json.loads((root / "build.json").read_text())
    build["media"]["m0"].update(audio=["en", "fr"], subtitles=["en"])
    (root / "build.json").write_text(json.dumps(build))
    return root


@pytest.fixture(scope="session")
def dl_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dl-cat") / "catalog.json"
    path.write_text(json.dumps(make_catalog()))
    return path


def start_service(db: Path, content: Path, catalog: Path) -> ServiceThread:
    return ServiceThread(ServiceConfig(content_dir=content, catalog_path=catalog, db_path=db, ocas=3)).start()


@pytest.fixture
def svc(tmp_path: Path, dl_content: Path, dl_catalog: Path) -> Iterator[ServiceThread]:
    service = start_service(tmp_path / "service.sqlite3", dl_content, dl_catalog)
    yield service
    service.stop()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("MARQUEE_HOME", str(home))
    monkeypatch.setenv("MARQUEE_KEY_PASSPHRASE", "correct horse battery staple")
    monkeypatch.delenv("MARQUEE_LICENSE_PUBKEY", raising=False)
    return home


MakeDownloads = Callable[..., Downloads]


@pytest.fixture
def make_downloads(tmp_path: Path, home: Path) -> Iterator[MakeDownloads]:
    made: list[Downloads] = []
    keyring = MemoryKeyring()

    def make(svc: ServiceThread | None, device: str = "dev-test", **kw: object) -> Downloads:
        folder = tmp_path / device
        folder.mkdir(exist_ok=True)
        link_factory = None
        if svc is not None:
            def link_factory() -> OnlineLink:
                client = ServiceClient(svc.url, device_id=device, timeout=5.0)
                client.login()
                return OnlineLink(client)
        kw.setdefault("settings", DownloadSettings(parallel_segments=4, reserve_bytes=0))
        d = Downloads(Journal(folder / "journal.sqlite3"), folder / "downloads",
                      DrmContext(device, folder / "drm", keyring_backend=keyring), link_factory=link_factory,
                      **kw)  # type: ignore[arg-type]
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def flip_stored_byte(d: Downloads, did: str, path: str, at: int, mask: int = 0x01) -> None:
    """Flip one bit ``at`` bytes into the sealed blob of ``path``, wherever it is stored
    (the title's pack, or its own file)."""
    from downloads.storage import TitleFiles

    f = next(f for f in d.journal.files(did, done=True) if f.path == path)
    files = TitleFiles(Path(d.journal.get(did).path))  # type: ignore[union-attr]
    where, base = (files.pack, f.pack_offset) if f.pack_offset is not None else (files.file(f.path), 0)
    with open(where, "r+b") as fh:
        fh.seek(base + at)
        byte = fh.read(1)[0]
        fh.seek(base + at)
        fh.write(bytes([byte ^ mask]))
