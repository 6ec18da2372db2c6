"""The app moves what startup built out of the garbage collector's sight once the first page
is up, so a full collection no longer walks (and stops every thread for) the whole heap."""

from __future__ import annotations

import gc

from PySide6.QtWidgets import QApplication

from tests.ui.fakes import FakeSource
from ui import app as ui_app


def test_the_startup_heap_is_frozen_once_the_window_is_up(qapp, home, monkeypatch):
    frozen: list[int] = []

    def exec_once(self) -> int:  # the event loop, for one round: the window shows, timers fire
        QApplication.processEvents()
        frozen.append(gc.get_freeze_count())
        for window in QApplication.topLevelWidgets():
            window.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", exec_once)
    gc.unfreeze()
    try:
        assert ui_app.run(FakeSource(), None) == 0
    finally:
        gc.unfreeze()
    assert frozen and frozen[0] > 10_000  # modules, classes, the window: tens of thousands of objects
