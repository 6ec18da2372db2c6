from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.fakes import FakeEngine, FakeSource
from ui.app import create_context, create_window, ensure_application
from ui.playback import EngineParts


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MARQUEE_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def engines() -> list[FakeEngine]:
    return []


@pytest.fixture
def make_ctx(qapp, home: Path, engines: list[FakeEngine]):  # type: ignore[no-untyped-def]
    ensure_application()
    made = []

    def make(source: FakeSource | None = None, with_engine: bool = True, downloads_opener=None):  # type: ignore[no-untyped-def]
        def factory(on_snapshot, on_event):  # type: ignore[no-untyped-def]
            eng = FakeEngine(on_snapshot, on_event)
            engines.append(eng)
            return EngineParts(eng, None, "fake")

        ctx = create_context(source or FakeSource(), engine_factory=factory if with_engine else None,
                             artwork_dir=home / "artwork", settings_path=home / "settings.toml",
                             state_path=home / "ui-state.json", downloads_opener=downloads_opener)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        if ctx.downloads is not None:
            ctx.downloads.shutdown()
        ctx.artwork.shutdown()
        ctx.tasks.wait_idle(3000)


@pytest.fixture
def window(qtbot, make_ctx):  # type: ignore[no-untyped-def]
    def build(source: FakeSource | None = None, with_engine: bool = True, downloads_opener=None):  # type: ignore[no-untyped-def]
        ctx = make_ctx(source, with_engine, downloads_opener)
        win = create_window(ctx)
        qtbot.addWidget(win)
        win.resize(1280, 800)
        win.show()
        return ctx, win

    return build
