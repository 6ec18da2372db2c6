"""``marquee content build``: encode the masters, package them, draw the artwork.

Layout (see docs/architecture.md, "Built content layout")::

    <out>/build.json                       written last, atomically: presence = complete
    <out>/media/<mid>/manifest.mpd         DASH (SegmentTemplate + SegmentTimeline, $Number$)
    <out>/media/<mid>/master.m3u8          HLS multivariant (fMP4, EXT-X-MAP)
    <out>/media/<mid>/<rep>/init.mp4, seg-<n>.m4s, playlist.m3u8   rep = v144..v1080, a-en, a-fr
    <out>/media/<mid>/subs/<lang>.vtt, <lang>.m3u8
    <out>/artwork/<title_id>/poster-<v>.jpg, backdrop-<v>.jpg, hero-<v>.jpg

Caching: ``build.json`` records a media key (spec + this package's code) and an artwork
key (catalogue + code). A run whose keys match returns at once. Work happens in
``<out>/.staging-*`` (one finished master or title at a time, so an interrupted build
resumes where it stopped); finished parts are swapped into place, then build.json is
written. A lock file keeps two builders from working on the same folder.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from marquee.errors import MarqueeError, StorageError
from service.catalog import Catalog, load_catalog
from service.content import artwork, ffmpeg, masters, package
from service.content.fonts import font_file
from service.content.progress import NullProgress, Progress
from service.content.spec import BuildSpec
from service.content.state import (BUILD_FORMAT, BUILD_JSON, MEDIA_MODULES, code_version, complete, content_keys,
                                  read_build_json)

log = logging.getLogger("marquee.content")


@dataclass(frozen=True)
class BuildResult:
    out: Path
    built: bool  # False: it was already up to date
    seconds: float
    info: dict[str, Any]


@contextlib.contextmanager
def _lock(out: Path) -> Iterator[None]:
    path = out / ".build.lock"
    handle = open(path, "a+")
    try:
        if sys.platform == "win32":  # msvcrt locks a byte range
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        handle.close()


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _swap_in(src: Path, dst: Path) -> None:
    """Replace directory ``dst`` by ``src`` (the old one is moved aside, then deleted)."""
    old = dst.with_name(f".old-{dst.name}-{os.getpid()}")
    if dst.exists():
        os.replace(dst, old)
    os.replace(src, dst)
    shutil.rmtree(old, ignore_errors=True)


def _subject(title: Any) -> artwork.ArtSubject:
    return artwork.ArtSubject(id=title.id, title=title.title, year=title.year, genres=tuple(title.genres),
                              kind=title.kind, seasons=len(title.seasons()) if title.kind == "series" else 0)


class _Builder:
    def __init__(self, out: Path, spec: BuildSpec, catalog: Catalog, progress: Progress, exe: str | None) -> None:
        self.out, self.spec, self.catalog, self.progress, self.exe = out, spec, catalog, progress, exe
        self.code = code_version(MEDIA_MODULES)
        self.stopping = threading.Event()  # the build was stopped: start no more artwork

    # media ------------------------------------------------------------------------------
    def build_media(self, staging: Path) -> dict[str, Any]:
        info = ffmpeg.probe(self.exe)
        log.info("ffmpeg %s at %s", info.version, info.exe)
        fonts_dir = self.out / ".fonts"
        font, mono = font_file("sans-bold", fonts_dir), font_file("mono-bold", fonts_dir)
        media_dir = staging / "media"
        media_dir.mkdir(parents=True, exist_ok=True)
        facts: dict[str, Any] = {}
        for master in self.spec.masters:
            task = f"media:{master.media_id}"
            done_dir = media_dir / master.media_id
            fingerprint = self.spec.master_fingerprint(master, self.code)
            marker = done_dir / ".facts.json"
            if marker.is_file():
                saved = json.loads(marker.read_text(encoding="utf-8"))
                if saved.get("fingerprint") == fingerprint:
                    facts[master.media_id] = saved["facts"]
                    self.progress.update(task, 1.0, f"{master.media_id} cached")
                    continue
            shutil.rmtree(done_dir, ignore_errors=True)
            work = staging / f"work-{master.media_id}"
            part = staging / f"part-{master.media_id}"
            for d in (work, part):
                shutil.rmtree(d, ignore_errors=True)
            work.mkdir(parents=True)
            status = f"encoding {master.media_id} ({master.name.title()}), {len(self.spec.ladder)} rungs"
            self.progress.update(task, 0.0, status)

            def report(fraction: float, task: str = task) -> None:
                self.progress.update(task, fraction * 0.97)

            ffmpeg.run(info.exe, masters.ffmpeg_args(self.spec, master, font, mono), cwd=work,
                       duration_s=self.spec.duration_s, on_progress=report)
            result = package.publish(work, part, self.spec, master.name, masters.WORK_MPD)
            (part / ".facts.json").write_text(json.dumps({"fingerprint": fingerprint, "facts": result}),
                                              encoding="utf-8")
            os.replace(part, done_dir)
            shutil.rmtree(work, ignore_errors=True)
            facts[master.media_id] = result
            self.progress.update(task, 1.0)
        for stray in media_dir.iterdir():  # masters the spec no longer has
            if stray.name not in facts:
                shutil.rmtree(stray, ignore_errors=True)
        for marker in media_dir.glob("*/.facts.json"):
            marker.unlink()
        return facts

    # artwork ----------------------------------------------------------------------------
    def build_artwork(self, staging: Path) -> None:
        art_dir = staging / "artwork"
        art_dir.mkdir(parents=True, exist_ok=True)
        tags = list(self.catalog.artwork_tags)[: self.spec.artwork_variants]
        titles = list(self.catalog.titles)
        done = 0
        lock = threading.Lock()

        def one(title: Any) -> None:
            nonlocal done
            if self.stopping.is_set():
                return
            dest = art_dir / title.id
            if not dest.is_dir():
                tmp = art_dir / f".tmp-{title.id}"
                shutil.rmtree(tmp, ignore_errors=True)
                artwork.write_artwork(_subject(title), tags, tmp)
                os.replace(tmp, dest)
            with lock:
                done += 1
                self.progress.update("artwork", done / len(titles), f"artwork {done}/{len(titles)}")

        pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="artwork")
        try:
            list(pool.map(one, titles))
        finally:  # stopped (Ctrl+C, the app gone): finish the two posters in hand, not all 62
            pool.shutdown(wait=True, cancel_futures=True)
        keep = {t.id for t in titles}
        for stray in art_dir.iterdir():
            if stray.name not in keep:
                shutil.rmtree(stray, ignore_errors=True)


def build(out: Path, spec: BuildSpec, *, catalog_path: Path | None = None, force: bool = False,
          progress: Progress | None = None, ffmpeg_exe: str | None = None) -> BuildResult:
    """Build (or confirm) the content in ``out``. Raises ``MarqueeError`` subclasses on failure."""
    from service.catalog import default_catalog_path

    started = time.monotonic()
    progress = progress or NullProgress()
    catalog_path = catalog_path or default_catalog_path()
    try:
        out.mkdir(parents=True, exist_ok=True)
        catalog_bytes = catalog_path.read_bytes()
    except OSError as exc:
        raise StorageError(f"cannot prepare {out} or read {catalog_path}: {exc}") from exc
    catalog = load_catalog(catalog_path)
    code = code_version()
    media_key, art_key = content_keys(spec, catalog_bytes)

    with _lock(out):
        current = read_build_json(out) or {}
        media_ok = not force and current.get("media_key") == media_key
        art_ok = not force and current.get("artwork_key") == art_key
        if media_ok and art_ok and complete(out, current):
            return BuildResult(out, False, time.monotonic() - started, current)

        staging = out / f".staging-{media_key[:10]}-{art_key[:10]}"
        for old in out.glob(".staging-*"):
            if old != staging or force:
                shutil.rmtree(old, ignore_errors=True)
        staging.mkdir(exist_ok=True)
        builder = _Builder(out, spec, catalog, progress, ffmpeg_exe)
        media_work = not (media_ok and (out / "media").is_dir())
        art_work = not (art_ok and (out / "artwork").is_dir())
        if media_work:
            for master in spec.masters:
                progress.add(f"media:{master.media_id}", spec.duration_s * 0.5)
        if art_work:
            progress.add("artwork", len(catalog.titles) * 0.12)

        media_facts: dict[str, Any] = current.get("media", {}) if not media_work else {}
        errors: list[BaseException] = []
        art_thread = None
        if art_work:
            def run_art() -> None:
                try:
                    builder.build_artwork(staging)
                except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread
                    errors.append(exc)
            art_thread = threading.Thread(target=run_art, name="artwork", daemon=True)
            art_thread.start()
        try:
            if media_work:
                media_facts = builder.build_media(staging)
        except BaseException:  # stopped (Ctrl+C, the app gone) or failed: the artwork stops too
            builder.stopping.set()
            raise
        finally:
            if art_thread is not None:
                art_thread.join()
        if errors:
            err = errors[0]
            if isinstance(err, MarqueeError):
                raise err
            raise StorageError(f"drawing the artwork failed: {err}") from err

        info = {
            "version": BUILD_FORMAT,
            "quick": spec.quick,
            "segment_seconds": spec.segment_s,
            "fps": spec.fps,
            "media_ids": [m.media_id for m in spec.masters],
            "media": media_facts,
            "artwork_variants": spec.artwork_variants,
            "artwork_kinds": list(artwork.KINDS),
            "artwork_tags": list(catalog.artwork_tags)[: spec.artwork_variants],
            "titles": len(catalog.titles),
            "media_key": media_key,
            "artwork_key": art_key,
            "code_version": code,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (out / BUILD_JSON).unlink(missing_ok=True)  # from here until the end: not complete
        if media_work:
            _swap_in(staging / "media", out / "media")
        if art_work:
            _swap_in(staging / "artwork", out / "artwork")
        _atomic_write(out / BUILD_JSON, json.dumps(info, indent=2, ensure_ascii=False) + "\n")
        shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(out, True, time.monotonic() - started, info)
