"""Variants from ``generate.py`` served by a plain static HTTP server on loopback."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from typing import Iterator

import pytest

from tests.streams.generate import Variant, build


@pytest.fixture(scope="session")
def variants() -> dict[str, Variant]:
    return build()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def static_server(variants: dict[str, Variant]) -> Iterator[str]:
    """Base URL serving the generator's root (variants are sub-directories of it)."""
    root = next(iter(variants.values())).root.parent
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def url_of(base: str, variant: Variant) -> str:
    return f"{base}/{Path(variant.root).name}/{variant.manifest}"
