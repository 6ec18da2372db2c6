"""Hostile requests against a running service, each measured: status, time, peak-RSS growth.

``python -m service.probe URL --pid PID --admin-secret-file F`` prints a table; the hostile-input
tests (tests/service/test_hostile.py) and ``benchmarks/hostile.py`` run the same cases. Peak RSS
is read from ``/proc/<pid>/status`` (VmHWM), reset before each case through ``clear_refs``
(Linux), so each row is what that one request cost the service at its peak.
"""

from __future__ import annotations

import gzip
import json
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import httpx

from marquee.private_files import ADMIN_HEADER

JSON = {"Content-Type": "application/json"}
ATTACKER = "http://attacker.example"
MiB = 1 << 20


@dataclass(frozen=True)
class Case:
    name: str
    send: Callable[[], int]  # the status the service answered (0: no answer, the connection closed)
    expect: frozenset[int]


@dataclass(frozen=True)
class Outcome:
    name: str
    status: int
    seconds: float
    rss_growth_mb: float
    expected: bool


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak(pid: int) -> None:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass  # not Linux, or not allowed: growth is then measured against the all-time peak


def dropped_after(port: int, first: bytes, trickle: bytes, every_s: float = 0.5) -> float:
    """Seconds until the server closes a connection that sends ``first`` then one byte of
    ``trickle`` every ``every_s`` (a slowloris that never finishes its request)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(first)
        for byte in trickle * 40:
            time.sleep(every_s)
            try:
                sock.sendall(bytes([byte]))
                sock.settimeout(0.01)
                if sock.recv(1) == b"":
                    break
            except (BlockingIOError, TimeoutError):
                pass
            except (BrokenPipeError, ConnectionResetError):
                break
            finally:
                sock.settimeout(30)
    return time.monotonic() - started


class Probe:
    def __init__(self, url: str, admin_secret: str) -> None:
        self.url = url.rstrip("/")
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.admin = {ADMIN_HEADER: admin_secret}
        self.http = httpx.Client(base_url=self.url, timeout=30)
        self._auth: dict[str, str] | None = None
        self._oca_url = ""

    def close(self) -> None:
        self.http.close()

    # ---------------------------------------------------------------- helpers
    def auth(self) -> dict[str, str]:
        if self._auth is None:
            r = self.http.post("/v1/auth/login", json={"email": "demo@marquee.test", "password": "marquee",
                                                       "device_id": "probe", "device_name": "probe"})
            r.raise_for_status()
            self._auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        return self._auth

    def profile(self) -> str:
        return str(self.http.get("/v1/profiles", headers=self.auth()).json()["profiles"][0]["id"])

    def oca_url(self) -> str:
        if not self._oca_url:
            r = self.http.post("/v1/playback", json={"profile_id": self.profile(), "title_id": "t001"},
                               headers=self.auth())
            r.raise_for_status()
            self._oca_url = str(r.json()["ocas"][0]["base_url"])
        return self._oca_url

    def raw(self, head: bytes, body_chunks: Callable[[], list[bytes]] | None = None, *, chunked: bool = False,
            total: int = 0, chunk: int = 0, leave: bool = False) -> int:
        """Send a request over a plain socket; the status line's code (0: closed without one)."""
        with socket.create_connection((self.host, self.port), timeout=30) as sock:
            try:
                sock.sendall(head)
                if total:
                    piece = (f"{chunk:x}\r\n".encode() + b"x" * chunk + b"\r\n") if chunked else b"x" * chunk
                    sent = 0
                    sock.settimeout(0.0)
                    while sent < total:
                        try:
                            if sock.recv(1, socket.MSG_PEEK):
                                break  # the service answered early (413): stop sending
                        except BlockingIOError:
                            pass
                        sock.settimeout(30)
                        sock.sendall(piece)
                        sock.settimeout(0.0)
                        sent += chunk
                    sock.settimeout(30)
                elif body_chunks is not None:
                    for part in body_chunks():
                        sock.sendall(part)
                if leave:
                    return 0  # gone mid-request
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                data = sock.recv(64)
            except (ConnectionResetError, TimeoutError):
                return 0
        try:
            return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
        except (IndexError, ValueError):
            return 0

    def head(self, method: str, path: str, extra: str = "") -> bytes:
        return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n{extra}\r\n".encode()

    def batch(self, events: list[dict[str, object]]) -> dict[str, object]:
        return {"schema": 1, "batch_id": uuid.uuid4().hex, "installation_id": "7" * 32, "sent_at": 1.8e9,
                "app": "probe", "dropped_total": 0, "rejected_total": 0, "events": events}

    def post_batch(self, doc: object, raw: bytes | None = None) -> int:
        body = raw if raw is not None else gzip.compress(json.dumps(doc).encode())
        return self.http.post("/v1/telemetry/batches", content=body,
                              headers={**JSON, "Content-Encoding": "gzip"}).status_code

    # ---------------------------------------------------------------- cases
    def cases(self) -> list[Case]:
        h, four = self.http, frozenset(range(400, 500))

        def c(name: str, send: Callable[[], int], *expect: int) -> Case:
            return Case(name, send, frozenset(expect) if expect else four)

        def seg(oca_range: str) -> int:
            return h.get(self.oca_url() + "v0/init.mp4", headers={b"Range": oca_range.encode()}).status_code

        def token_with_expiry(expiry: str) -> bytes:
            account, device, _, sig = self.auth()["Authorization"].split(" ")[1].split(".")
            return f"Bearer {account}.{device}.{expiry}.{sig}".encode()

        def session_end(**data: object) -> dict[str, object]:
            base: dict[str, object] = {"startup_ms": 300.0, "played_s": 1.0, "stall_count": 0, "stall_ms": 0.0,
                                       "switches": 0, "avg_bitrate_kbps": 3000.0, "failovers": 0, "errors": 0,
                                       "ok": True, "reason": "stopped"}
            base.update(data)
            return {"kind": "session_end", "session_id": uuid.uuid4().hex, "seq": 1, "ts": 1.8e9, "t": 1.0,
                    "data": base}

        def segment(oca: str, sid: str) -> dict[str, object]:
            return {"kind": "segment", "session_id": sid, "seq": 1, "ts": 1.8e9, "t": 1.0,
                    "data": {"rung": 1, "bytes": 10, "download_ms": 1.0, "oca": oca, "throughput_kbps": 1.0,
                             "bitrate_kbps": 1.0}}

        def with_envelope(**fields: object) -> dict[str, object]:
            ev = session_end()
            ev.update(fields)
            return ev

        bomb = gzip.compress(b"[" + b"{}," * (5_500_000) + b"{}]", 9)  # ~16 KB -> 16.5 MB
        inner_bomb = gzip.compress(b"[" + b"{}," * 1_300_000 + b"{}]", 9)  # under the inflate limit, all objects
        policy = "/v1/admin/licenses/policy"
        return [
            c("CSRF: text/plain revoke from a foreign Origin",
              lambda: h.post("/v1/admin/licenses/revoke", content=b'{"account_id":"x"}',
                             headers={"Content-Type": "text/plain", "Origin": ATTACKER, **self.admin}).status_code, 403),
            c("CSRF: text/plain login", lambda: h.post("/v1/auth/login", content=b"{}",
                                                       headers={"Content-Type": "text/plain"}).status_code, 415),
            c("CSRF: form POST to the admin plane",
              lambda: h.post("/v1/admin/ocas/reset-counters", content=b"a=1",
                             headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code, 415),
            c("DNS rebinding: foreign Host", lambda: h.get("/v1/catalog", headers={"Host": "rebind.attacker.example"}).status_code, 403),
            c("DNS rebinding: foreign Host, admin",
              lambda: h.get("/v1/admin/ocas", headers={"Host": "rebind.attacker.example", **self.admin}).status_code, 403),
            c("admin without the secret", lambda: h.get("/v1/admin/ocas").status_code, 401),
            c("Host: evil.example in playback",
              lambda: h.post("/v1/playback", json={"profile_id": self.profile(), "title_id": "t001"},
                             headers={**self.auth(), "Host": "evil.example"}).status_code, 403),
            c("JSON nested 100k deep (login)",
              lambda: h.post("/v1/auth/login", content=b"[" * 100_000 + b"]" * 100_000, headers=JSON).status_code, 400),
            c("JSON objects nested 100k deep (login)",
              lambda: h.post("/v1/auth/login", content=b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
                             headers=JSON).status_code, 413, 400),
            c("16 KB gzip -> 16.5 MB of {}, (telemetry)", lambda: self.post_batch(None, bomb), 413),
            c("gzip of 1.3 M objects under the inflate limit", lambda: self.post_batch(None, inner_bomb), 400, 413),
            c("gzip on a JSON route", lambda: h.post("/v1/auth/login", content=gzip.compress(b"{}"),
                                                     headers={**JSON, "Content-Encoding": "gzip"}).status_code, 415),
            c("300 MiB chunked body (login)",
              lambda: self.raw(self.head("POST", "/v1/auth/login", "Content-Type: application/json\r\n"
                                         "Transfer-Encoding: chunked\r\n"), chunked=True, total=300 * MiB,
                               chunk=MiB), 413, 0),
            c("300 MiB declared Content-Length (login)",
              lambda: self.raw(self.head("POST", "/v1/auth/login", "Content-Type: application/json\r\n"
                                         f"Content-Length: {300 * MiB}\r\n"), total=300 * MiB, chunk=MiB), 413, 0),
            c("Content-Length not a number", lambda: self.raw(self.head(
                "POST", "/v1/auth/login", "Content-Type: application/json\r\nContent-Length: ²\r\n")), 400),
            # h11 refuses a header block still incomplete past 16 KB; one that arrives whole in a read is
            # parsed (bounded by the read size): either way no 500 and no memory growth
            c("1 MB header block", lambda: self.raw(self.head("GET", "/health", "X-Big: " + "a" * MiB + "\r\n")),
              200, 400, 431, 0),
            c("token expiry '²'", lambda: h.get("/v1/profiles", headers={b"Authorization": token_with_expiry("²")}).status_code, 401),
            c("token expiry of 5,000 digits",
              lambda: h.get("/v1/profiles", headers={b"Authorization": token_with_expiry("9" * 5000)}).status_code, 401),
            c("OCA token expiry of 5,000 digits",
              lambda: h.get(self.oca_url().replace("/c/", "/c/" + "9" * 5000, 1) + "v0/init.mp4").status_code, 403),
            c("OCA Range bytes=²-", lambda: seg("bytes=²-"), 200),
            c("OCA Range of 5,000 digits", lambda: seg("bytes=0-" + "9" * 5000), 200),
            c("search limit '²'", lambda: h.get("/v1/search", params={"q": "a", "limit": "²"}).status_code, 400),
            c("search limit of 5,000 digits",
              lambda: h.get("/v1/search", params={"q": "a", "limit": "9" * 5000}).status_code, 400),
            c("playback body [NaN]", lambda: h.post("/v1/playback", content=b'{"title_id": NaN}',
                                                    headers={**JSON, **self.auth()}).status_code, 400),
            c("progress seq beyond SQLite's range",
              lambda: h.post(f"/v1/profiles/{self.profile()}/progress", headers=self.auth(),
                             json={"reports": [{"title_id": "t001", "position_s": 5, "duration_s": 100,
                                                "client_time": 1.8e9, "seq": 2**70}]}).status_code, 400),
            c("policy 1e400", lambda: h.put(policy, content=b'{"license_duration_s": 1e400}',
                                            headers={**JSON, **self.admin}).status_code, 400),
            c("policy NaN", lambda: h.put(policy, content=b'{"max_devices": NaN}',
                                          headers={**JSON, **self.admin}).status_code, 400),
            c("policy not_downloadable as a string",
              lambda: h.put(policy, json={"not_downloadable": "t001"}, headers=self.admin).status_code, 400),
            c("GET /v1/licenses after the bad policies", lambda: h.get("/v1/licenses", headers=self.auth()).status_code, 200),
            c("telemetry ts 1e300", lambda: self.post_batch(self.batch([with_envelope(ts=1e300)])), 400),
            c("telemetry ts -1e18", lambda: self.post_batch(self.batch([with_envelope(ts=-1e18)])), 400),
            c("telemetry played_s 1e308 (x2)", lambda: max(self.post_batch(self.batch([session_end(played_s=1e308)]))
                                                           for _ in range(2)), 400),
            c("telemetry OCA name $\\foo{$", lambda: self.post_batch(self.batch([segment("$\\foo{$", uuid.uuid4().hex)])), 400),
            c("summary after the poison", lambda: h.get("/v1/telemetry/summary").status_code, 200),
            c("dashboard after the poison", lambda: h.get("/v1/telemetry/dashboard").status_code, 200),
            c("40 KB batch of 2,000 OCA names",
              lambda: self.post_batch(self.batch([segment(f"e{i}", uuid.uuid4().hex) for i in range(2000)])), 200),
            c("dashboard over 2,000 OCA names", lambda: h.get("/v1/telemetry/dashboard").status_code, 200),
            c("client leaves mid-body", lambda: self.raw(self.head(
                "POST", "/v1/auth/login", "Content-Type: application/json\r\nContent-Length: 1000\r\n"),
                lambda: [b'{"email": "a'], leave=True), 0),
        ]

    def run(self, case: Case, pid: int | None) -> Outcome:
        if pid is not None:
            reset_peak(pid)
            before = peak_rss_mb(pid)
        started = time.monotonic()
        try:
            status = case.send()
        except httpx.HTTPError:
            status = 0
        seconds = time.monotonic() - started
        growth = (peak_rss_mb(pid) - before) if pid is not None else 0.0
        return Outcome(case.name, status, seconds, growth, status in case.expect)


def main() -> int:
    import argparse

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("url")
    p.add_argument("--pid", type=int, default=None, help="the service's process id (for peak RSS)")
    p.add_argument("--admin-secret-file", type=Path, required=True)
    args = p.parse_args()
    probe = Probe(args.url, args.admin_secret_file.read_text().strip())
    bad = 0
    print(f"{'case':<50} {'status':>6} {'s':>7} {'RSS+MB':>7}")
    for case in probe.cases():
        out = probe.run(case, args.pid)
        bad += not out.expected
        print(f"{out.name[:50]:<50} {out.status:>6} {out.seconds:7.3f} {out.rss_growth_mb:7.1f}"
              f"{'' if out.expected else '  UNEXPECTED'}")
    probe.close()
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
