"""The built-in service's launcher and the content on disk: missing, current, or made by
another version (rebuilt at the next start, keeping a quick build quick)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from marquee import embedded, paths


@pytest.fixture
def content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MARQUEE_HOME", str(tmp_path))
    return paths.content_dir()


def test_no_content_is_neither_ready_nor_outdated(content: Path) -> None:
    assert not embedded.content_ready() and not embedded.content_outdated()
    assert embedded.build_command() == [sys.executable, "-m", "marquee", "content", "build"]


def test_a_build_by_another_version_is_rebuilt_the_same_kind(content: Path) -> None:
    content.mkdir(parents=True, exist_ok=True)
    (content / "build.json").write_text(json.dumps({"quick": True, "media": {}, "media_key": "old",
                                                    "artwork_key": "old"}))
    (content / "artwork").mkdir()
    assert not embedded.content_ready() and embedded.content_outdated()
    assert embedded.build_command()[-1] == "--quick"


def test_the_quick_test_build_is_current(quick_content: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "content_dir", lambda: quick_content)
    assert embedded.content_ready()
