"""Offline downloads benchmark (issue 6): one command, a table, ratios measured in one run.

    .venv/bin/python benchmarks/downloads.py [--repeats 5] [--titles 8] [--home DIR]

On loopback, against the reference service and its OCAs **in a child process** (``marquee
serve``, as ``benchmarks/engine.py`` does), so this process's time and CPU are the client's
alone. Content: the quick demo build (16 s titles, top rung 1080p at 5 Mbit/s), made once
under ``--home`` (default /tmp/marquee-bench, shared with the engine benchmark), or
``--content DIR``. A run downloads ``--titles`` films at ``max`` quality (video + one audio).

1. Download throughput of ``DownloadManager`` (parallel segments, AES-GCM, pack, journal) vs
   the engine's plain streaming fetch of the *same* segments (``player.fetch.Fetcher``, one
   segment after the other as a playback session does, nothing written). Goal >= 0.9x.
   Both sides time their per-title playback calls, neither its sign-in.
   Also with OCA links shaped to ``--link-mbps`` (the realistic case: the link is the limit).
   Breakdown rows: the download's I/O alone (``pipeline``), adding one step at a time.
2. Where the client's CPU goes, per MB: fetch, AES-GCM sealing, storing (pack, and one file per
   segment for comparison), journal commits.
3. Decryption throughput of the stored top-rung segments (in memory; and read from disk as
   offline playback does) vs the top rung's bitrate: the headroom factor. Goal > 1000x.

``--service-in-process`` runs the service in a thread of this process instead (the old set-up:
its HTTP serving then competes with the client for the GIL, which is what the ratio measured).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def quick_content(home: Path) -> Path:
    env = {**os.environ, "MARQUEE_HOME": str(home)}
    content = home / "cache" / "content"
    if not (content / "build.json").exists():
        print("building quick demo content (once)...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "marquee", "content", "build", "--quick"], check=True, env=env)
    return content


class Service:
    """The reference service, in a child process (default) or in a thread of this one."""

    def __init__(self, content: Path, state: Path, in_process: bool) -> None:
        if in_process:
            from service.catalog import default_catalog_path
            from service.config import ServiceConfig
            from service.server import ServiceThread

            self._thread = ServiceThread(ServiceConfig(content_dir=content, catalog_path=default_catalog_path(),
                                                       db_path=state / "service.sqlite3", ocas=3)).start()
            self.url, self._stop = self._thread.url, self._thread.stop
            self._admin_headers = self._thread.admin_headers
        else:
            from marquee.embedded import start_embedded_service

            child = start_embedded_service(content_dir=content, env={"MARQUEE_HOME": str(state / "service-home")})
            self.url, self._stop = child.url, child.stop
            self._admin_headers = child.admin_headers()
        self.admin("PUT", "/licenses/policy", {"max_devices": 100_000, "max_downloads_per_title": 100_000})
        self.ocas = [o["id"] for o in self.admin("GET", "/ocas")["ocas"]]

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.url}/v1/admin{path}", json=body, timeout=10,
                                 headers=self._admin_headers)
        response.raise_for_status()
        return response.json() if response.content else None

    def link_rate(self, kbps: int | None) -> None:
        for oca in self.ocas:
            self.admin("PUT" if kbps else "DELETE", f"/ocas/{oca}/faults", {"throughput_kbps": kbps} if kbps else None)

    def stop(self) -> None:
        self._stop()


def signed_in(url: str, device: str) -> tuple[Any, str]:
    """A service client signed in, and its first profile. Never timed: the download's own
    sign-in and licences happen before its timing starts too (about 40 ms of the streaming
    fetch's ~290 ms went to the sign-in when it was timed, which flattered the ratio)."""
    from marquee.api import ServiceClient

    client = ServiceClient(url, device_id=device)
    client.login()
    return client, client.profiles()[0].id


async def title_fetcher(http: httpx.AsyncClient, client: Any, profile: str, title: str) -> Any:
    """The title's playback call (timed on every side: the download makes it per title too)
    and a ``Fetcher`` over its ranked OCAs."""
    from marquee.clock import SystemClock
    from player.fetch import Fetcher, OcaPool
    from player.oca.ranking import OcaRanker

    info = await asyncio.to_thread(client.playback, profile, title)
    ocas = sorted(info.ocas, key=lambda o: o.rank)
    return Fetcher(http, OcaPool({o.id: o.base_url for o in ocas}), OcaRanker([o.id for o in ocas]),
                   SystemClock(), lambda e: None)


async def streaming_fetch(url: str, device: str, titles: dict[str, list[str]]) -> tuple[int, float, float]:
    """The engine's fetch path, title after title: one client, ranked OCAs, one segment at a
    time, nothing kept. (bytes, seconds, CPU seconds), playback calls included."""
    from player.engine import http_client
    from player.fetch import FetchTarget

    client, profile = signed_in(url, device)
    quiesce()
    start, cpu = time.perf_counter(), time.process_time()
    http = http_client()
    total = 0
    for title, paths in titles.items():
        fetcher = await title_fetcher(http, client, profile, title)
        for path in paths:
            total += len((await fetcher.fetch(FetchTarget(path))).data)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    await http.aclose()
    client.close()
    return total, seconds, cpu


STAGES = ("fetch", "seal", "write", "durable")


async def pipeline(url: str, device: str, titles: dict[str, list[str]], stage: str, folder: Path) -> tuple[int, float]:
    """The download's I/O without its bookkeeping (no journal, no title turns or look-ahead,
    no progress), at its concurrency (parallel titles x parallel segments), cut at ``stage``:
    "fetch" keeps nothing, "seal" adds AES-GCM into one reused buffer, "write" appends the
    sealed files to a pack per title (page cache only), "durable" also flushes each title's
    pack once its fetches end, in a thread, as the download's last commit does. Each stage
    against the one before is what that step costs; "durable" against the download is what
    its bookkeeping costs. (bytes, seconds)"""
    from downloads.manager import DownloadSettings
    from downloads.storage import PackFile
    from drm.crypto import seal_into
    from player.engine import http_client
    from player.fetch import FetchTarget

    settings = DownloadSettings()
    client, profile = signed_in(url, device)
    folder.mkdir(parents=True, exist_ok=True)
    key, sealed = os.urandom(32), bytearray()
    queue = list(titles.items())
    flushes: list[asyncio.Future[None]] = []
    total = 0

    async def one_title(title: str, paths: list[str]) -> None:
        nonlocal total
        fetcher = await title_fetcher(http, client, profile, title)
        pack = PackFile(folder / f"{title}.mqp", 0) if stage in ("write", "durable") else None
        todo, end = iter(paths), 0

        async def segments() -> None:
            nonlocal total, end
            for path in todo:
                data = (await fetcher.fetch(FetchTarget(path))).data
                total += len(data)  # after the await: a += around it would lose concurrent updates
                if stage != "fetch":
                    blob = seal_into(sealed, key, f"{title}/{path}", data)
                    if pack is not None:
                        pack.write_at(end, blob)
                        end += len(blob)
                    blob.release()

        await asyncio.gather(*(segments() for _ in range(settings.parallel_segments)))
        if pack is not None:
            flushes.append(asyncio.ensure_future(asyncio.to_thread(finish, pack)))

    def finish(pack: PackFile) -> None:
        if stage == "durable":
            pack.flush()
        pack.close()

    async def slot() -> None:
        while queue:
            await one_title(*queue.pop(0))

    quiesce()
    start = time.perf_counter()
    http = http_client(connections=settings.parallel_titles * settings.parallel_segments + 2)
    await asyncio.gather(*(slot() for _ in range(settings.parallel_titles)))
    await asyncio.gather(*flushes)
    seconds = time.perf_counter() - start
    await http.aclose()
    client.close()
    shutil.rmtree(folder, ignore_errors=True)
    return total, seconds


def quiesce() -> None:
    """Before each timed run: no dirty pages of an earlier run (the no-fsync breakdown leaves
    ~100 MB) are being written back in the background, stealing CPU from this one."""
    if hasattr(os, "sync"):
        os.sync()


def discard(r: dict[str, Any], folder: Path) -> None:
    """A run's files go once measured: the next runs write to a disk in the same state."""
    r["d"].close()
    shutil.rmtree(folder, ignore_errors=True)


class NoFsync:
    """Breakdown only: the same path without durability (no fsync, no fdatasync)."""

    def write(self, path: Path, data: bytes) -> None:
        path.write_bytes(data)

    def sync(self, folder: Path) -> None:
        pass

    def open_pack(self, path: Path, size: int) -> Any:
        from downloads.storage import PackFile

        pack = PackFile(path, size)
        pack.flush = lambda: None  # type: ignore[method-assign]
        return pack


def download(svc: Service, tmp: Path, name: str, titles: list[str], parallel: int,
             writer: Any = None, before: Callable[[dict[str, list[str]]], None] | None = None) -> dict[str, Any]:
    """Queue ``titles`` (licences fetched, not timed), then time ``Downloads.run``. ``before``
    gets the files to fetch, by title, once they are queued and before the timing starts."""
    from downloads.api import Downloads
    from downloads.context import DrmContext
    from downloads.journal import Journal
    from downloads.manager import DownloadSettings
    from downloads.online import OnlineLink
    from marquee.api import ServiceClient
    from tests.drm.memory_keyring import MemoryKeyring

    folder = tmp / name

    def link() -> OnlineLink:
        client = ServiceClient(svc.url, device_id=name)
        client.login()
        return OnlineLink(client)

    d = Downloads(Journal(folder / "journal.sqlite3"), folder / "downloads",
                  DrmContext(name, folder / "drm", keyring_backend=MemoryKeyring()), link_factory=link,
                  settings=DownloadSettings(parallel_segments=parallel, reserve_bytes=0),
                  **({"writer": writer} if writer is not None else {}))
    rows = [d.add(t, quality="max", audio=["en"], subtitles=[]) for t in titles]
    commits = [0]
    mark_done_many = d.journal.mark_done_many

    def counted(did: str, done: Any) -> None:
        commits[0] += 1
        mark_done_many(did, done)

    d.journal.mark_done_many = counted  # type: ignore[method-assign,assignment]
    files = {r.id: [f.path for f in d.journal.files(r.id, done=False)] for r in rows}
    if before is not None:
        before(files)
    quiesce()
    start, cpu = time.perf_counter(), time.process_time()
    d.run_blocking(only={r.id for r in rows})
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    done = [f for r in rows for f in d.journal.files(r.id, done=True) if f.kind != "manifest"]
    assert all(d.info(r.id).state == "completed" for r in rows), [d.info(r.id) for r in rows]
    out = {"d": d, "rows": rows, "files": files, "bytes": sum(f.plain_bytes or 0 for f in done), "seconds": seconds,
           "cpu": cpu, "commits": commits[0], "nfiles": len(done)}
    return out


def micro(sizes: list[int], key: bytes) -> dict[str, float]:
    """Per-MB costs of the download's own steps on segment-sized data, one thread: sealing,
    storing as one file each (write, fsync, rename: the layout before packs) and into a
    pack (pwrite, one fdatasync per ``commit_files``), and a journal commit."""
    from downloads.journal import Journal
    from downloads.manager import DownloadSettings
    from downloads.plan import Plan, PlannedFile
    from downloads.storage import AtomicWriter, fsync_dir
    from drm.crypto import seal, seal_into

    tmp = Path(tempfile.mkdtemp(prefix="marquee-bench-dl-micro-"))
    plain = [os.urandom(n) for n in sizes]  # incompressible, like media
    mb = sum(sizes) / 1e6
    sealed = bytearray()  # as the manager seals: into one reused buffer
    cpu = time.process_time()
    for i, p in enumerate(plain):
        seal_into(sealed, key, f"x/{i}", p)
    seal_cpu = time.process_time() - cpu
    blobs = [seal(key, f"x/{i}", p) for i, p in enumerate(plain)]
    writer = AtomicWriter()
    quiesce()
    start, cpu = time.perf_counter(), time.process_time()
    for i, blob in enumerate(blobs):
        writer.write(tmp / f"f{i}", blob)
    fsync_dir(tmp)
    files_s, files_cpu = time.perf_counter() - start, time.process_time() - cpu
    quiesce()
    every = DownloadSettings().commit_files
    start, cpu = time.perf_counter(), time.process_time()
    pack, end = writer.open_pack(tmp / "pack", 0), 0
    for i, blob in enumerate(blobs):
        pack.write_at(end, blob)
        end += len(blob)
        if i % every == every - 1:
            pack.flush()
    pack.flush()
    pack.close()
    pack_s, pack_cpu = time.perf_counter() - start, time.process_time() - cpu
    journal = Journal(tmp / "j.sqlite3")
    plan = Plan(b"", "r", 0, 0, (), (), tuple(PlannedFile(f"p{i}", "media", 1) for i in range(len(blobs))), 1.0)
    journal.create("d", title_id="t", episode_id=None, label="l", media_id="m", quality="q", plan=plan, path="x",
                   license={}, license_id="L", now=0.0)
    start = time.perf_counter()
    for i in range(len(blobs)):
        journal.mark_done("d", f"p{i}", 1, 1, 0)
    commit_s = (time.perf_counter() - start) / len(blobs)
    journal.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return {"seal_ms_per_mb": seal_cpu / mb * 1000, "files_ms_per_file": files_s / len(blobs) * 1000,
            "files_cpu_ms_per_mb": files_cpu / mb * 1000, "pack_ms_per_file": pack_s / len(blobs) * 1000,
            "pack_cpu_ms_per_mb": pack_cpu / mb * 1000, "commit_ms": commit_s * 1000}


def decrypt_rate(d: Any, rows: list[Any]) -> tuple[float, float]:
    """(from disk, in memory) bytes per second of decrypting the stored top-rung segments:
    from disk as offline playback reads them (the pack's pages were dropped from the cache
    after each flush, so this includes reading the disk), then the same blobs already in
    memory (AES-GCM and the format's own work only)."""
    from downloads.storage import TitleFiles
    from drm.crypto import open_all, open_range

    nbytes, disk_s, blobs = 0, 0.0, []
    for row in rows:
        key = d.drm.content_key(row.license)
        tf = TitleFiles(Path(row.path))
        media = [f for f in d.journal.files(row.id, done=True) if f.kind == "media" and f.path.startswith(row.rung_id)]
        start = time.perf_counter()
        for f in media:
            read_at, size = tf.reader(f)
            nbytes += len(open_range(key, f"{row.id}/{f.path}", read_at, size))
        disk_s += time.perf_counter() - start
        blobs += [(key, f"{row.id}/{f.path}", tf.reader(f)[0](0, f.stored_bytes)) for f in media]
    start = time.perf_counter()
    for key, label, blob in blobs:
        open_all(key, label, blob)
    return nbytes / disk_s, nbytes / (time.perf_counter() - start)


def measure_extras(r: dict[str, Any]) -> tuple[tuple[float, float], dict[str, float], int]:
    d, rows = r["d"], r["rows"]
    top = [f.plain_bytes for row in rows for f in d.journal.files(row.id, done=True)
           if f.path.startswith(row.rung_id) and f.kind == "media"]
    return decrypt_rate(d, rows), micro(top[:24], d.drm.content_key(rows[0].license)), rows[0].bandwidth


def run(args: argparse.Namespace) -> int:
    from marquee.api import ServiceClient

    content = args.content or quick_content(args.home)
    tmp = Path(tempfile.mkdtemp(prefix="marquee-bench-dl-"))
    os.environ["MARQUEE_HOME"] = str(tmp / "home")
    svc = Service(content, tmp, args.service_in_process)
    try:
        probe = ServiceClient(svc.url)
        probe.login()
        films = [t["id"] for t in probe.catalog() if t.get("kind") == "film"]
        probe.close()
        titles, shaped_titles = films[: args.titles], films[args.titles: args.titles + 2]
        res: dict[str, list[float]] = {k: [] for k in ("stream", "dl", "dl1", "nosync", "stream_cpu", "dl_cpu",
                                                       "stream_link", "dl_link", "files_per_commit",
                                                       "stream_first", *(f"stage_{s}" for s in STAGES))}
        last: dict[str, Any] = {}
        extras: tuple[tuple[float, float], dict[str, float], int] = ((0.0, 0.0), {}, 0)
        for rep in range(-1, args.repeats):  # -1 warms up (imports, connections, page cache): not counted
            # Counterbalanced pairs: the streaming fetch runs after the download in even repeats
            # and before it in odd ones, so neither side is always the one that follows the
            # previous repeat's runs (83 MB written, then deleted). Both orders' medians are shown.
            streamed: list[tuple[int, float, float]] = []

            def fetch_streaming(files: dict[str, list[str]], rep: int = rep) -> None:
                streamed.append(asyncio.run(streaming_fetch(svc.url, f"stream-{rep}", files)))

            r = download(svc, tmp, f"dl-{rep}", titles, args.parallel, before=fetch_streaming if rep % 2 else None)
            if not streamed:
                fetch_streaming(r["files"])
            n, s, cpu = streamed[0]
            assert n == r["bytes"], (n, r["bytes"])
            if rep >= 0:
                res["stream_first"].append(rep % 2)
                res["stream"].append(n / s)
                res["dl"].append(r["bytes"] / r["seconds"])
                res["stream_cpu"].append(cpu / (n / 1e6) * 1000)
                res["dl_cpu"].append(r["cpu"] / (r["bytes"] / 1e6) * 1000)
                res["files_per_commit"].append(r["nfiles"] / max(1, r["commits"]))
            last = r
            if rep == args.repeats - 1:
                extras = measure_extras(r)
            discard(r, tmp / f"dl-{rep}")
            for name, parallel, writer in (("dl1", 1, None), ("nosync", args.parallel, NoFsync())):
                r = download(svc, tmp, f"{name}-{rep}", titles, parallel, writer)
                if rep >= 0:
                    res[name].append(r["bytes"] / r["seconds"])
                discard(r, tmp / f"{name}-{rep}")
            for stage in STAGES:
                n, s = asyncio.run(pipeline(svc.url, f"{stage}-{rep}", r["files"], stage, tmp / f"{stage}-{rep}"))
                assert n == r["bytes"], (stage, n, r["bytes"])
                if rep >= 0:
                    res[f"stage_{stage}"].append(n / s)
            if rep >= 0 and rep < args.link_repeats:
                svc.link_rate(int(args.link_mbps * 1000))
                try:
                    r = download(svc, tmp, f"link-{rep}", shaped_titles, args.parallel)
                    n, s, _ = asyncio.run(streaming_fetch(svc.url, f"link-stream-{rep}", r["files"]))
                    res["dl_link"].append(r["bytes"] / r["seconds"])
                    res["stream_link"].append(n / s)
                    discard(r, tmp / f"link-{rep}")
                finally:
                    svc.link_rate(None)
        (dec_disk, dec), costs, top_bps = extras
    finally:
        svc.stop()
    med = statistics.median
    stream, dl, dl1, nosync = med(res["stream"]), med(res["dl"]), med(res["dl1"]), med(res["nosync"])
    mb = last["bytes"] / 1e6
    where = "a thread of this process (--service-in-process)" if args.service_in_process else "a child process"
    print(f"\nOffline downloads on loopback, service in {where}: {len(titles)} films x max quality = {mb:.0f} MB "
          f"per run, top rung {top_bps / 1e6:.1f} Mbit/s, median of {args.repeats} runs\n")
    print(f"{'path':<62} {'MB/s':>8} {'vs streaming':>13}")
    table = [
        ("engine streaming fetch (sequential, in memory)", stream, stream),
        (f"download, {args.parallel} parallel segments (encrypt+fsync+journal)", dl, stream),
        ("download, 1 segment at a time (encrypt+fsync+journal)", dl1, stream),
        (f"breakdown: download, {args.parallel} parallel, no fsync", nosync, stream),
        ("breakdown: its I/O alone (no journal, turns, progress): fetch", med(res["stage_fetch"]), stream),
        ("  + AES-GCM sealing", med(res["stage_seal"]), stream),
        ("  + appended to a pack per title (page cache)", med(res["stage_write"]), stream),
        ("  + each pack flushed as its title ends (durable)", med(res["stage_durable"]), stream),
    ]
    if res["dl_link"]:
        sl, dll = med(res["stream_link"]), med(res["dl_link"])
        table += [(f"engine streaming fetch, OCA links at {args.link_mbps:g} Mbit/s", sl, sl),
                  (f"download, {args.parallel} parallel, OCA links at {args.link_mbps:g} Mbit/s", dll, sl)]
    for label, bps, base in table:
        print(f"{label:<62} {bps / 1e6:8.1f} {bps / base:12.2f}x")
    print(f"\nclient CPU per MB (ms): streaming fetch {med(res['stream_cpu']):.2f}, download {med(res['dl_cpu']):.2f} "
          f"(of which, one thread, measured alone: AES-GCM seal {costs['seal_ms_per_mb']:.2f}, pack write+flush "
          f"{costs['pack_cpu_ms_per_mb']:.2f}; one file per segment instead: {costs['files_cpu_ms_per_mb']:.2f})")
    print(f"storing a segment: {costs['pack_ms_per_file']:.2f} ms wall into the pack, "
          f"{costs['files_ms_per_file']:.2f} ms as its own file (write+fsync+rename); journal commit "
          f"{costs['commit_ms']:.1f} ms wall each; files per commit in the download: "
          f"{med(res['files_per_commit']):.1f}")
    print(f"\n{'decryption (AES-256-GCM, top-rung segments in memory)':<62} {dec / 1e6:8.1f} MB/s")
    print(f"{'read from disk + decryption (cold pages, as offline playback)':<62} {dec_disk / 1e6:8.1f} MB/s")
    print(f"{'top rung bitrate':<62} {top_bps / 8e6:8.3f} MB/s")
    print(f"{'headroom factor (decryption / top-rung bitrate)':<62} {dec * 8 / top_bps:8.0f}x")
    print(f"{'headroom factor (read + decryption / top-rung bitrate)':<62} {dec_disk * 8 / top_bps:8.0f}x")
    # Each download is paired with the streaming fetch run right after it: the machine's
    # state drifts between repeats (shared cores), far less within a pair.
    ratios = [d / s for d, s in zip(res["dl"], res["stream"])]
    paired = med(ratios)
    by_order = {first: [x for x, f in zip(ratios, res["stream_first"]) if f == first] for first in (0, 1)}
    orders = ", ".join(f"{label} {med(by_order[first]):.2f}x" for first, label in ((0, "download first"),
                                                                                  (1, "streaming first"))
                       if by_order[first])
    ok = paired >= 0.9
    print(f"\ngoal: download >= 0.9x streaming fetch: {'met' if ok else 'NOT met'} (median of paired ratios "
          f"{paired:.2f}x ({orders}); ratio of medians {dl / stream:.2f}x; runs {[round(x / 1e6) for x in res['dl']]} "
          f"vs {[round(x / 1e6) for x in res['stream']]} MB/s); "
          f"decryption headroom > 1000x: {'met' if dec * 8 / top_bps > 1000 else 'NOT met'}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--titles", type=int, default=8, help="films downloaded per run (16 s each in --quick)")
    parser.add_argument("--parallel", type=int, default=None, help="parallel segments (default: the setting's)")
    parser.add_argument("--home", type=Path, default=Path(tempfile.gettempdir()) / "marquee-bench")
    parser.add_argument("--content", type=Path, default=None, help="an existing built content folder")
    parser.add_argument("--link-mbps", type=float, default=100.0, help="the shaped-link comparison's OCA rate")
    parser.add_argument("--link-repeats", type=int, default=1, help="runs of the shaped-link comparison (slow)")
    parser.add_argument("--service-in-process", action="store_true",
                        help="run the service in a thread of this process (the old set-up, for comparison)")
    args = parser.parse_args()
    if args.parallel is None:
        from downloads.manager import DownloadSettings

        args.parallel = DownloadSettings().parallel_segments
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
