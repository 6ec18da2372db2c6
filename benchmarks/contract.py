"""The wire contract's library: msgspec against pydantic v2 on two real bodies (issue 16).

    .venv/bin/python benchmarks/contract.py [--rounds 2000]

Bodies: a playback response (``POST /v1/playback``, 4 OCAs) and a telemetry batch of
500 events (segments and heartbeats, as the client uploads). For each, the time per body to
- decode: JSON bytes -> validated typed value (what a boundary does with a reply or a request),
- convert: an already parsed dict -> typed value (the UI's offline cache, the service's fakes),
- encode: typed value -> JSON bytes (what the service answers).
Baseline in the same run: the standard library's ``json`` (parse or dump only, no validation),
plus, for the batch, what the collector does today (``json.loads`` + ``telemetry.schema.validate_batch``).
Needs ``pip install .[bench]`` for pydantic; the contract itself uses msgspec only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import msgspec  # noqa: E402
import pydantic  # noqa: E402

from contract.playback import Playback  # noqa: E402
from contract.telemetry import TelemetryBatch  # noqa: E402
from telemetry.schema import validate_batch  # noqa: E402

Scalar = str | int | float | bool | None


class POca(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(frozen=True)
    id: str
    base_url: str
    rank: int = 0
    weight: float = 1.0
    name: str = ""
    score: float = 0.0


class PPlayback(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(frozen=True)
    playback_id: str
    title_id: str
    media_id: str
    dash_url: str
    hls_url: str
    profile_id: str = ""
    episode_id: str | None = None
    manifests: dict[str, str] = {}
    ocas: tuple[POca, ...] = ()
    expires_at: float = 0.0
    start_position_s: float = 0.0


class PEvent(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")
    kind: str
    session_id: str
    seq: int
    ts: float
    t: float
    data: dict[str, Scalar]


class PBatch(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")
    schema_: int = pydantic.Field(alias="schema")
    batch_id: str
    installation_id: str
    sent_at: float
    app: str
    dropped_total: int
    rejected_total: int
    events: tuple[PEvent, ...]


def playback_doc() -> dict[str, Any]:
    ocas = [{"id": f"oca-{i}", "name": f"Edge {i}", "rank": i, "weight": 1.0, "score": 0.5 + i,
             "base_url": f"http://127.0.0.1:{8100 + i}/c/{'ab' * 40}/m0042/"} for i in range(4)]
    return {"playback_id": "f" * 32, "profile_id": "p1", "title_id": "t003", "episode_id": "t003-s1e02",
            "media_id": "m0042", "expires_at": 1_765_000_000, "start_position_s": 12.5,
            "manifests": {"dash": "manifest.mpd", "hls": "master.m3u8"},
            "dash_url": ocas[0]["base_url"] + "manifest.mpd", "hls_url": ocas[0]["base_url"] + "master.m3u8",
            "ocas": ocas}


def batch_doc(n: int = 500) -> dict[str, Any]:
    events = []
    for i in range(n):
        if i % 5:
            kind, data = "segment", {"rung": 3, "bytes": 412_345, "download_ms": 210.5, "oca": "oca-1",
                                     "throughput_kbps": 15_700.0, "bitrate_kbps": 2800.0}
        else:
            kind, data = "heartbeat", {"position_s": i * 2.0, "buffer_s": 18.5, "bitrate_kbps": 2800.0,
                                       "state": "playing", "oca": "oca-1"}
        events.append({"kind": kind, "session_id": "a" * 32, "seq": i, "ts": 1_765_000_000.0 + i, "t": i * 2.0,
                       "data": data})
    return {"schema": 1, "batch_id": "b" * 32, "installation_id": "c" * 32, "sent_at": 1_765_000_100.0,
            "app": "marquee/0.1.0", "dropped_total": 0, "rejected_total": 0, "events": events}


def per_call_us(fn: Callable[[], Any], rounds: int) -> float:
    fn()  # warm up (pydantic builds its validators lazily)
    best = float("inf")
    for _ in range(3):  # best of three: the machine is shared
        t0 = time.perf_counter()
        for _ in range(rounds):
            fn()
        best = min(best, (time.perf_counter() - t0) / rounds)
    return best * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2000)
    args = ap.parse_args()
    cases = [("playback", playback_doc(), Playback, PPlayback, args.rounds),
             ("telemetry batch (500 events)", batch_doc(), TelemetryBatch, PBatch, max(1, args.rounds // 50))]
    print(f"msgspec {msgspec.__version__}, pydantic {pydantic.VERSION}; microseconds per body (best of 3)")
    print(f"{'body':<30} {'operation':<9} {'json (no check)':>16} {'msgspec':>9} {'pydantic':>9} {'pyd/msgspec':>12}")
    for name, doc, mtype, ptype, rounds in cases:
        raw = json.dumps(doc).encode()
        mval, pval = msgspec.json.decode(raw, type=mtype), ptype.model_validate_json(raw)
        assert json.loads(msgspec.json.encode(mval)) == pval.model_dump(mode="json", by_alias=True) == doc  # both read the same thing
        rows = [
            ("decode", lambda: json.loads(raw), lambda: msgspec.json.decode(raw, type=mtype),
             lambda: ptype.model_validate_json(raw)),
            ("convert", lambda: dict(doc), lambda: msgspec.convert(doc, mtype), lambda: ptype.model_validate(doc)),
            ("encode", lambda: json.dumps(doc).encode(), lambda: msgspec.json.encode(mval),
             lambda: pval.model_dump_json(by_alias=True)),
        ]
        for op, base, m, p in rows:
            tb, tm, tp = (per_call_us(f, rounds) for f in (base, m, p))
            print(f"{name:<30} {op:<9} {tb:>16.1f} {tm:>9.1f} {tp:>9.1f} {tp / tm:>11.1f}x")
        if name.startswith("telemetry"):
            today = per_call_us(lambda: validate_batch(json.loads(raw)), rounds)
            print(f"{'':<30} {'today':<9} {today:>16.1f}  (json.loads + telemetry.schema.validate_batch)")
    # A wrong type must be refused by both, with the field named.
    bad = {**playback_doc(), "ocas": [{"id": 7, "base_url": "x"}]}
    for label, check in (("msgspec", lambda: msgspec.convert(bad, Playback)),
                         ("pydantic", lambda: PPlayback.model_validate(bad))):
        try:
            check()
        except (msgspec.ValidationError, pydantic.ValidationError) as exc:
            print(f"{label} refuses a bad OCA id: {' / '.join(str(exc).splitlines()[:3])}")


if __name__ == "__main__":
    main()
