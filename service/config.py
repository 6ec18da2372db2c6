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

    def __post_init__(self) -> None:
        if not 0 <= self.ocas <= 10:
            raise ValueError("the number of OCAs must be between 0 and 10")

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK
