"""One TLS context for every HTTP client of the process.

httpx builds a new ``SSLContext`` for each client and loads the CA bundle into it: about
27 ms of CPU on the reference machine, paid by every playback start, download run and
service client. A context is safe to share between clients and threads, so it is built once.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's CA bundle), built on first use."""
    return httpx.create_ssl_context()
