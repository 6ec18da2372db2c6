"""Service configuration: one immutable object built by the CLI or a test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class ServiceConfig:
    content_dir: Path
    catalog_path: Path
    db_path: Path
    host: str = "127.0.0.1"
    port: int = 0
    ocas: int = 3
    admin: bool = True
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 30 * 86400
    playback_token_ttl_s: int = 6 * 3600
    seed_demo: bool = True
    oca_capacity: int = 50
    # Host names besides loopback and ``host`` that requests may address (a LAN name when bound
    # to 0.0.0.0); anything else is refused (DNS rebinding).
    allowed_hosts: tuple[str, ...] = ()
    # A client must send a whole request (headers and body) within this many seconds of connecting
    # (or of its first byte on a kept-alive connection); then it is dropped (goal: within 10 s).
    read_timeout_s: float = 8.0
    # Requests in flight (per listener: the API and each OCA have their own) before answering 503.
    limit_concurrency: int = 256
    # The host name put in the URLs the service hands out (OCA base URLs, artwork); default: the
    # bound address (loopback for 0.0.0.0/::). Never taken from a request's Host header.
    public_host: str = ""
    # OCAs serve https:// with this installation's self-signed certificate (service/oca_tls.py),
    # which the app's clients pin.
    oca_tls: bool = False
    # Where the admin plane's secret lives (default: admin.secret beside the database).
    admin_secret_path: Path | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.ocas <= 10:
            raise ValueError("the number of OCAs must be between 0 and 10")

    @property
    def url_host(self) -> str:
        """``public_host`` or the bound host, as it goes into a URL (IPv6 in brackets)."""
        host = self.public_host or {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        return f"[{host}]" if ":" in host and not host.startswith("[") else host

    @property
    def secret_path(self) -> Path:
        return self.admin_secret_path or Path(self.db_path).parent / "admin.secret"

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK
