"""Offline downloads benchmark (issue 6).

Run: ``.venv/bin/python benchmarks/downloads.py`` (``--seconds 60`` for longer content,
``--content DIR`` to use an existing built content folder with ``media/m0``).

Measures, in one run, on loopback against the reference service and its OCAs:

1. download throughput of ``DownloadManager`` (parallel segments, AES-GCM, fsync + rename,
   journal) vs the engine's plain streaming fetch of the *same* segments (``player.fetch.Fetcher``,
   one segment after the other as the playback session does, nothing written): ratio, goal >= 0.9x;
2. decryption throughput (``drm.crypto.open_range`` of the stored top-rung segments, from disk)
   vs the top rung's bitrate: the headroom factor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FILM = "t001"


def build_content(root: Path, seconds: int) -> Path:
    import imageio_ffmpeg

    media = root / "media" / "m0"
    media.mkdir(parents=True)
    args = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=24:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
            "-filter_complex", "[0:v]split=3[a][b][c];[a]scale=256:144[v0];[b]scale=640:360[v1];[c]null[v2]",
            "-map", "[v0]", "-map", "[v1]", "-map", "[v2]", "-map", "1:a",
            "-c:v", "libx264", "-preset", "ultrafast", "-g", "48", "-keyint_min", "48", "-sc_threshold", "0",
            "-pix_fmt", "yuv420p", "-b:v:0", "300k", "-b:v:1", "1500k", "-b:v:2", "5000k",
            "-c:a", "aac", "-b:a", "128k", "-f", "dash", "-seg_duration", "2", "-use_template", "1",
            "-use_timeline", "0", "-init_seg_name", "init-$RepresentationID$.m4s",
            "-media_seg_name", "seg-$RepresentationID$-$Number$.m4s",
            "-adaptation_sets", "id=0,streams=v id=1,streams=a", "manifest.mpd"]
    subprocess.run(args, cwd=media, check=True, timeout=600)
    build = {"version": 1, "quick": True, "segment_seconds": 2, "artwork_variants": 4,
             "media": {"m0": {"duration_s": seconds, "ladder": [], "audio": ["und"], "subtitles": []}}}
    (root / "build.json").write_text(json.dumps(build))
    return root


async def plain_streaming_fetch(url: str, device: str, targets: list[str]) -> tuple[int, float]:
    """The engine's fetch path: one client, ranked OCAs, one segment at a time; bytes, seconds."""
    from downloads.online import OnlineLink
    from marquee.api import ServiceClient
    from marquee.clock import SystemClock
    from player.engine import http_client
    from player.fetch import Fetcher, FetchTarget, OcaPool
    from player.oca.ranking import OcaRanker

    start = time.perf_counter()  # like the download: asking for the OCAs and connecting are part of it
    client = ServiceClient(url, device_id=device)
    client.login()
    info = OnlineLink(client).playback(FILM, None)
    ocas = sorted(info.ocas, key=lambda o: o.rank)
    http = http_client()
    fetcher = Fetcher(http, OcaPool({o.id: o.base_url for o in ocas}), OcaRanker([o.id for o in ocas]),
                      SystemClock(), lambda e: None)
    total = 0
    for path in targets:
        total += len((await fetcher.fetch(FetchTarget(path))).data)
    seconds = time.perf_counter() - start
    await http.aclose()
    client.close()
    return total, seconds


def run(seconds: int, content: Path | None, repeats: int, args_link_kbps: int = 100_000) -> int:
    from downloads.api import Downloads
    from downloads.context import DrmContext
    from downloads.journal import Journal
    from downloads.manager import DownloadSettings
    from downloads.online import OnlineLink
    from drm.crypto import open_range
    from marquee.api import ServiceClient
    from service.config import ServiceConfig
    from service.server import ServiceThread
    from tests.drm.memory_keyring import MemoryKeyring
    from tests.service.fakes import make_catalog

    tmp = Path(tempfile.mkdtemp(prefix="marquee-bench-dl-"))
    os.environ["MARQUEE_HOME"] = str(tmp / "home")
    if content is None:
        print(f"building {seconds} s of 720p content (3 rungs + audio)...", file=sys.stderr)
        content = build_content(tmp / "content", seconds)
    catalog = tmp / "catalog.json"
    catalog.write_text(json.dumps(make_catalog()))
    svc = ServiceThread(ServiceConfig(content_dir=content, catalog_path=catalog, db_path=tmp / "svc.sqlite3",
                                      ocas=3)).start()
    rows = []
    try:
        keyring = MemoryKeyring()
        results: dict[str, list[float]] = {"stream": [], "dl1": [], "dl4": [], "nosync": [],
                                           "stream_link": [], "dl4_link": []}

        class NoFsync:  # breakdown only: the same path without durability
            def write(self, path: Path, data: bytes) -> None:
                path.write_bytes(data)

        from service.faults import FaultSpec

        def link_rate(kbps: int | None) -> None:
            for node in svc.runtime.ocas:
                svc.call(lambda node=node: node.set_faults(FaultSpec(throughput_kbps=kbps) if kbps else FaultSpec()))

        sizes: dict[str, int] = {}
        decrypt: list[float] = []
        top_bps = 0
        for rep in range(-1, repeats):  # run -1 warms up (imports, connections, page cache); not counted
            for name, parallel in (("dl4", 4), ("dl1", 1), ("nosync", 4), ("dl4_link", 4)):
                link_rate(args_link_kbps if name == "dl4_link" else None)
                device = f"bench-{name}-{rep}"
                folder = tmp / device

                def link(device: str = device) -> OnlineLink:
                    client = ServiceClient(svc.url, device_id=device)
                    client.login()
                    return OnlineLink(client)

                d = Downloads(Journal(folder / "j.sqlite3"), folder / "dl", DrmContext(device, folder / "drm",
                              keyring_backend=keyring), link_factory=link,
                              settings=DownloadSettings(parallel_segments=parallel, reserve_bytes=0),
                              **({"writer": NoFsync()} if name == "nosync" else {}))
                svc.runtime.store.set_meta("license_policy", json.dumps({"max_devices": 1000,
                                                                         "max_downloads_per_title": 1000}))
                row = d.add(FILM, quality="max", audio=["und"], subtitles=[])
                files = [f.path for f in d.journal.files(row.id, done=False)]
                start = time.perf_counter()
                d.run_blocking(only={row.id})
                elapsed = time.perf_counter() - start
                totals = d.journal.totals(row.id)
                plain = sum(f.plain_bytes or 0 for f in d.journal.files(row.id, done=True) if f.path != "manifest.mpd")
                assert d.info(row.id).state == "completed"
                if rep >= 0:
                    results[name].append(plain / elapsed)
                sizes[name] = totals.bytes_done
                top_bps = row.bandwidth
                if name in ("dl4", "dl4_link") and rep >= 0:
                    stream_bytes, stream_s = asyncio.run(plain_streaming_fetch(svc.url, device + "-s", files))
                    assert stream_bytes == plain, (stream_bytes, plain)
                    results["stream" if name == "dl4" else "stream_link"].append(stream_bytes / stream_s)
                link_rate(None)
                if name == "dl4" and rep >= 0:
                    key = d.drm.content_key(row.license)
                    from downloads.storage import TitleFiles

                    tf = TitleFiles(Path(row.path))
                    media = [f for f in d.journal.files(row.id, done=True) if f.kind == "media"
                             and f.path.startswith(f"seg-{row.rung_id}-")]
                    start = time.perf_counter()
                    nbytes = 0
                    for f in media:
                        path = tf.file(f.path)
                        nbytes += len(open_range(key, f"{row.id}/{f.path}",
                                                 lambda o, n, p=f.path: tf.read_at(p, o, n), path.stat().st_size))
                    decrypt.append(nbytes / (time.perf_counter() - start))
                d.close()
        stream = statistics.median(results["stream"])
        dl4, dl1 = statistics.median(results["dl4"]), statistics.median(results["dl1"])
        dec = statistics.median(decrypt)
        nosync = statistics.median(results["nosync"])
        stream_link, dl4_link = statistics.median(results["stream_link"]), statistics.median(results["dl4_link"])
        rows = [
            ("engine streaming fetch (sequential, in memory)", stream, 1.0),
            ("download, 4 parallel segments (encrypt+fsync+journal)", dl4, dl4 / stream),
            ("download, 1 segment at a time (encrypt+fsync+journal)", dl1, dl1 / stream),
            ("breakdown: download, 4 parallel, no fsync", nosync, nosync / stream),
            (f"engine streaming fetch, OCA links at {args_link_kbps / 1000:g} Mbit/s", stream_link, 1.0),
            (f"download, 4 parallel, OCA links at {args_link_kbps / 1000:g} Mbit/s", dl4_link, dl4_link / stream_link),
        ]
        print(f"\nOffline downloads on loopback: {sizes['dl4'] / 1e6:.1f} MB stored per title, top rung "
              f"{top_bps / 1e6:.1f} Mbit/s, median of {repeats} run(s)\n")
        print(f"{'path':<58} {'MB/s':>8} {'vs streaming':>13}")
        for name, bps, ratio in rows:
            print(f"{name:<58} {bps / 1e6:8.1f} {ratio:12.2f}x")
        print(f"\n{'decryption from disk (AES-256-GCM, top-rung segments)':<58} {dec / 1e6:8.1f} MB/s")
        print(f"{'top rung bitrate':<58} {top_bps / 8e6:8.3f} MB/s")
        print(f"{'headroom factor (decrypt / top-rung bitrate)':<58} {dec * 8 / top_bps:8.0f}x")
        ok = dl4 / stream >= 0.9
        print(f"\ngoal: download >= 0.9x streaming fetch: {'met' if ok else 'NOT met'} on raw loopback "
              f"({dl4 / stream:.2f}x), {'met' if dl4_link / stream_link >= 0.9 else 'NOT met'} at "
              f"{args_link_kbps / 1000:g} Mbit/s ({dl4_link / stream_link:.2f}x); "
              f"decryption headroom > 1000x: {'met' if dec * 8 / top_bps > 1000 else 'NOT met'}")
        return 0
    finally:
        svc.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=90, help="length of the generated content")
    parser.add_argument("--content", type=Path, default=None, help="an existing content folder (media/m0)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--link-mbps", type=float, default=100.0, help="the shaped-link comparison's OCA rate")
    args = parser.parse_args()
    return run(args.seconds, args.content, args.repeats, int(args.link_mbps * 1000))


if __name__ == "__main__":
    sys.exit(main())
