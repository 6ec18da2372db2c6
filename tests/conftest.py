"""Fixtures shared by every test package.

``quick_content``: demo content built once with ``marquee content build --quick``
(2 masters x 16 s, 6 rungs 144p..1080p, DASH + HLS, en/fr audio and subtitles,
artwork for every catalogue title). Session scoped; treat it as read-only.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# CI replays the same examples every run (a property that fails there fails for everyone,
# never by chance); locally hypothesis explores new examples. No deadline: the machines
# are shared and a slow example is not a wrong one.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def _quick_content_dir() -> Path:
    from service.content.state import code_version

    user = getattr(os, "getuid", lambda: 0)()
    return Path(tempfile.gettempdir()) / f"marquee-test-content-{user}-{code_version()[:12]}"


@pytest.fixture(scope="session")
def quick_content() -> Path:
    """Path of a complete ``--quick`` build (``build.json``, ``media/``, ``artwork/``).

    Cached in the system temp folder under a key of the builder's code, so a second
    test session (or a parallel one: the builder takes a lock) reuses it at once.
    """
    from service.content.build import build
    from service.content.spec import quick_spec

    out = _quick_content_dir()
    build(out, quick_spec())
    return out
