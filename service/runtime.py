"""Everything a request handler needs, built once at startup (no globals)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from marquee.clock import Clock, SystemClock
from service.catalog import BuildInfo, Catalog, load_build, load_catalog, with_playable_runtimes
from service.config import ServiceConfig
from service.oca import OcaNode
from service.seed import ensure_demo
from service.store import Store

log = logging.getLogger("marquee.service")


@dataclass
class Runtime:
    config: ServiceConfig
    clock: Clock
    store: Store
    catalog: Catalog
    build: BuildInfo | None
    secret: bytes
    ocas: list[OcaNode] = field(default_factory=list)

    def oca(self, oca_id: str) -> OcaNode | None:
        return next((o for o in self.ocas if o.id == oca_id), None)

    @property
    def media_root(self) -> Path:
        return Path(self.config.content_dir) / "media"

    @property
    def artwork_root(self) -> Path:
        return Path(self.config.content_dir) / "artwork"


def create_runtime(config: ServiceConfig, clock: Clock | None = None) -> Runtime:
    clock = clock or SystemClock()
    Path(config.db_path).parent.mkdir(parents=True, exist_ok=True)
    store = Store(config.db_path)
    build = load_build(config.content_dir)
    catalog = with_playable_runtimes(load_catalog(config.catalog_path), build)
    secret_hex = store.get_meta("secret")
    if secret_hex is None:
        secret_hex = secrets.token_hex(32)
        store.set_meta("secret", secret_hex)
    if config.seed_demo:
        ensure_demo(store, catalog, clock.wall())
    runtime = Runtime(config, clock, store, catalog, build, bytes.fromhex(secret_hex))
    for i in range(config.ocas):
        runtime.ocas.append(OcaNode(f"oca-{i + 1}", f"Edge {i + 1} (loopback)", runtime.media_root, runtime.secret,
                                    clock, host=config.host, port=0, weight=round(1.0 - 0.05 * i, 2)))
    return runtime
