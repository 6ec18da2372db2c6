"""Everything a request handler needs, built once at startup (no globals)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marquee.clock import Clock, SystemClock
from service.catalog import BuildInfo, Catalog, load_build, load_catalog, with_playable_runtimes
from marquee import private_files
from service.config import ServiceConfig
from service.keystore import Keystore
from service.login_limits import LoginLimits
from service.oca_tls import ensure_certificate
from service.oca import OcaNode
from service.seed import ensure_demo
from service.store import Store

log = logging.getLogger("marquee.service")
# Meta values that are secrets: kept wrapped by the keystore (the licence key is read by service.api.licenses).
WRAPPED_META = ("secret", "license_signing_key")


@dataclass
class Runtime:
    config: ServiceConfig
    clock: Clock
    store: Store
    catalog: Catalog
    build: BuildInfo | None
    secret: bytes
    keystore: Keystore
    admin_secret: str = ""
    service_port: int = 0  # set once the API listens (port 0 picks one)
    dashboard_pool: Any = None  # the collector's drawing process, started on the first dashboard view
    # failed logins: per account (5 free, then back-off) and per client address (more: loopback is shared)
    login_by_account: LoginLimits = field(default_factory=LoginLimits)
    login_by_address: LoginLimits = field(default_factory=lambda: LoginLimits(free_failures=20))
    ocas: list[OcaNode] = field(default_factory=list)

    def oca(self, oca_id: str) -> OcaNode | None:
        return next((o for o in self.ocas if o.id == oca_id), None)

    @property
    def base_url(self) -> str:
        """The API's own URL, from configuration only (never from a request's Host header)."""
        return f"http://{self.config.url_host}:{self.service_port or self.config.port or 80}"

    @property
    def media_root(self) -> Path:
        return Path(self.config.content_dir) / "media"

    @property
    def artwork_root(self) -> Path:
        return Path(self.config.content_dir) / "artwork"


def create_runtime(config: ServiceConfig, clock: Clock | None = None) -> Runtime:
    clock = clock or SystemClock()
    private_files.private_dir(Path(config.db_path).parent)
    store = Store(config.db_path)
    build = load_build(config.content_dir)
    catalog = with_playable_runtimes(load_catalog(config.catalog_path), build)
    keystore = Keystore.beside(Path(config.db_path))
    keystore.migrate(store, WRAPPED_META)
    secret = keystore.meta_secret(store, "secret", lambda: secrets.token_bytes(32))
    if config.seed_demo:
        ensure_demo(store, catalog, clock.wall())
    admin_secret = private_files.admin_secret_at(config.secret_path) if config.admin else ""
    runtime = Runtime(config, clock, store, catalog, build, secret, keystore, admin_secret)
    tls = ensure_certificate(Path(config.db_path).parent, (config.host, config.public_host, *config.allowed_hosts)) \
        if config.oca_tls and config.ocas else None
    for i in range(config.ocas):
        runtime.ocas.append(OcaNode(f"oca-{i + 1}", f"Edge {i + 1} (loopback)", runtime.media_root, runtime.secret,
                                    clock, host=config.host, port=0, weight=round(1.0 - 0.05 * i, 2),
                                    read_timeout_s=config.read_timeout_s, limit_concurrency=config.limit_concurrency,
                                    tls=tls))
    return runtime
