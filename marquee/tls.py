"""One TLS context for every HTTP client of the process.

httpx builds a new ``SSLContext`` for each client and loads the CA bundle into it: about
27 ms of CPU on the reference machine, paid by every playback start, download run and
service client. A context is safe to share between clients and threads, so it is built once.

It also trusts this installation's OCA certificate when the built-in service made one
(``marquee serve --tls``, ``service/oca_tls.py``): a self-signed certificate for loopback
names, pinned by being the only extra trust anchor, read from the service's own folder.
"""

from __future__ import annotations

import functools
import ssl

import httpx

PINNED_CERT_FILE = "oca-cert.pem"


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's CA bundle) plus the pinned OCA certificate, built on first use."""
    context = httpx.create_ssl_context()
    pinned = pinned_certificate()
    if pinned:
        context.load_verify_locations(cadata=pinned)
    return context


def pinned_certificate() -> str | None:
    from marquee import paths

    path = paths.service_dir() / PINNED_CERT_FILE
    try:
        text = path.read_text("ascii")
    except (OSError, UnicodeDecodeError):
        return None
    return text if "BEGIN CERTIFICATE" in text else None
