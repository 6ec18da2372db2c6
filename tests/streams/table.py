"""Play every generated variant through the real engine and mpv and print a table:

    .venv/bin/python -m tests.streams.table

(variant -> ok, played s, decode errors, startup ms, stalls, switches, errors)
"""

from __future__ import annotations

import functools
import http.server
import threading

from tests.streams.conftest import _Quiet, url_of
from tests.streams.generate import CODECS, build
from tests.streams.player_run import play


def main() -> None:
    variants = build()
    root = next(iter(variants.values())).root.parent
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    codecs = {name for name, *_ in CODECS} | {"hls-ts-h264-aac"}
    print(f"{'variant':20} {'ok':5} {'played s':>8} {'decode err':>10} {'startup ms':>10} {'stalls':>6} "
          f"{'switches':>8}  errors")
    try:
        for name, variant in variants.items():
            played = play(url_of(base, variant), subtitles=variant.subtitles, switch=name in codecs)
            s = played.summary
            switches = sum(1 for e in played.events if e.kind == "switch")
            print(f"{name:20} {str(s.ok):5} {s.played_s:8.2f} {s.decode_errors:10d} {s.startup_ms or 0:10.0f} "
                  f"{s.stall_count:6d} {switches:8d}  {'; '.join(s.errors)[:90]}", flush=True)
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
