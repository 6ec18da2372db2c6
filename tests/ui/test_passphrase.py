"""The device-key passphrase in the app, on a machine without an OS keystore (``keyring``'s
``fail`` backend, as on headless Linux): created on the first Download (typed twice), asked
again after a wrong one, Cancel leaves downloads locked with nothing changed, the environment
variable wins, and the typed value is what the keystore used (and is written nowhere)."""

from __future__ import annotations

from pathlib import Path

import pytest
from keyring.backends import fail

from drm.keystore import PASSPHRASE_ENV, KeyStore
from tests.ui.downloads_fakes import DEVICE, FAST_SCRYPT_N, opener
from tests.ui.fakes import FakeSource
from ui.catalog import Tile
from ui.downloads_service import DownloadsService
from ui.passphrase import (
    ENV_WRONG_MESSAGE,
    LOCKED_MESSAGE,
    NOT_SET_UP_MESSAGE,
    WRONG_PASSPHRASE,
    PassphraseNeeded,
    SessionPassphrase,
)
from ui.tasks import Tasks
from ui.views.passphrase_dialog import MISMATCH, PassphraseDialog

SECRET = "correct horse battery staple"


@pytest.fixture(autouse=True)
def no_env_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)


@pytest.fixture
def folder(home: Path) -> Path:
    return home / "dl"


def make_key(folder: Path, passphrase: str) -> bytes:
    keys = KeyStore(DEVICE, folder / "drm", backend=fail.Keyring(), passphrase=lambda creating: passphrase,
                    scrypt_n=FAST_SCRYPT_N).load_or_create()
    return keys.public_raw


def settle(qtbot, ctx) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: ctx.tasks.pending() == 0, timeout=10000)


def open_window(qtbot, window, folder: Path):  # type: ignore[no-untyped-def]
    ctx, win = window(FakeSource(), downloads_opener=opener(folder, fail.Keyring()))
    settle(qtbot, ctx)
    return ctx, win


def on_title_page(qtbot, win) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: len(win.picker.buttons) == 3, timeout=5000)
    win.picker.buttons[0].click()
    win.open_title(Tile("t001", "x"))
    qtbot.waitUntil(lambda: win.title_page.detail is not None, timeout=5000)


def current_dialog(qtbot, win) -> PassphraseDialog:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: win.passphrase_prompt.dialog is not None and win.passphrase_prompt.dialog.isVisible(),
                    timeout=10000)
    return win.passphrase_prompt.dialog


def answer(qtbot, dialog: PassphraseDialog, first: str, second: str | None = None) -> None:  # type: ignore[no-untyped-def]
    dialog.first.setText(first)
    if second is not None:
        dialog.second.setText(second)
    dialog.ok_button.click()


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_first_download_creates_the_key_with_a_passphrase_typed_twice(qtbot, window, folder, home) -> None:  # type: ignore[no-untyped-def]
    ctx, win = open_window(qtbot, window, folder)
    service = ctx.downloads
    assert win.passphrase_prompt.dialog is None  # starting the app asks nothing while there is no key
    assert service.error == "" and service.passphrase_wanted == ""
    on_title_page(qtbot, win)
    button = win.title_page.download_button
    qtbot.waitUntil(button.isEnabled, timeout=5000)
    button.click()

    dialog = current_dialog(qtbot, win)
    assert dialog.creating and dialog.second.isVisibleTo(dialog)
    assert dialog.windowTitle() == "Protect your downloads"
    assert "cannot be recovered" in " ".join(label.text() for label in dialog.findChildren(type(dialog.error)))
    answer(qtbot, dialog, SECRET, SECRET + "!")  # mismatch: asked again, in the same dialog
    assert dialog.isVisible() and dialog.error.text() == MISMATCH and dialog.second.text() == ""
    assert not (folder / "drm" / "device-key.json").exists()

    with qtbot.waitSignal(service.failed, timeout=10000) as failed:
        answer(qtbot, dialog, SECRET, SECRET)  # the key is created, then add needs the service
    assert "offline" in failed.args[0].lower()  # this test has no service: the add itself fails
    assert win.passphrase_prompt.dialog is None
    assert make_key(folder, SECRET) == service._downloads().drm.keys().public_raw  # the typed value made the key
    secret = SECRET.encode()
    assert not [p for p in files_under(home) if secret in p.read_bytes()]  # in memory only


def test_a_wrong_passphrase_is_asked_again_with_the_reason(qtbot, window, folder) -> None:  # type: ignore[no-untyped-def]
    public = make_key(folder, SECRET)
    ctx, win = open_window(qtbot, window, folder)
    service = ctx.downloads
    assert win.passphrase_prompt.dialog is None  # the startup refresh does not open a dialog...
    assert service.passphrase_wanted == "unlock" and service.error == LOCKED_MESSAGE  # ...it says why
    win.open_downloads()
    page = win.downloads
    qtbot.waitUntil(lambda: page.unlock_button.isVisibleTo(page), timeout=5000)
    assert page.message.text() == LOCKED_MESSAGE and page.unlock_button.text() == "Unlock downloads…"
    page.unlock_button.click()

    dialog = current_dialog(qtbot, win)
    assert not dialog.creating and not dialog.second.isVisibleTo(dialog) and not dialog.error.isVisibleTo(dialog)
    answer(qtbot, dialog, "not it")
    qtbot.waitUntil(lambda: win.passphrase_prompt.dialog not in (None, dialog), timeout=10000)
    again = current_dialog(qtbot, win)
    assert not again.creating and again.error.text() == WRONG_PASSPHRASE and again.error.isVisibleTo(again)

    answer(qtbot, again, SECRET)
    qtbot.waitUntil(lambda: service.passphrase_wanted == "" and service.error == "", timeout=10000)
    settle(qtbot, ctx)
    assert service._downloads().drm.keys().public_raw == public
    assert win.passphrase_prompt.dialog is None
    assert not page.unlock_button.isVisibleTo(page) and not page.message.isVisibleTo(page)
    assert page.empty.isVisibleTo(page)  # unlocked, and there is nothing downloaded yet


def test_cancel_keeps_downloads_locked_and_changes_nothing(qtbot, window, folder) -> None:  # type: ignore[no-untyped-def]
    make_key(folder, SECRET)
    before = {p: p.read_bytes() for p in files_under(folder)}
    ctx, win = open_window(qtbot, window, folder)
    service = ctx.downloads
    win.open_downloads()
    page = win.downloads
    page.unlock_button.click()
    dialog = current_dialog(qtbot, win)
    with qtbot.waitSignal(service.failed, timeout=5000) as failed:
        dialog.cancel_button.click()
    assert failed.args == [LOCKED_MESSAGE]
    settle(qtbot, ctx)
    assert win.passphrase_prompt.dialog is None and service._d is None
    assert service.passphrase_wanted == "unlock" and page.message.text() == LOCKED_MESSAGE
    assert page.unlock_button.isVisibleTo(page) and not page.empty.isVisibleTo(page)  # locked is not "empty"
    assert {p: p.read_bytes() for p in files_under(folder) if p in before} == before  # key file untouched

    page.reload()  # a background refresh does not nag again
    settle(qtbot, ctx)
    assert win.passphrase_prompt.dialog is None
    page.unlock_button.click()  # but Unlock asks again, and works
    answer(qtbot, current_dialog(qtbot, win), SECRET)
    qtbot.waitUntil(lambda: service.passphrase_wanted == "" and service._d is not None, timeout=10000)


def test_cancel_before_the_key_exists_says_nothing_was_downloaded(qtbot, window, folder) -> None:  # type: ignore[no-untyped-def]
    ctx, win = open_window(qtbot, window, folder)
    on_title_page(qtbot, win)
    button = win.title_page.download_button
    qtbot.waitUntil(button.isEnabled, timeout=5000)
    button.click()
    dialog = current_dialog(qtbot, win)
    assert dialog.creating
    dialog.cancel_button.click()
    settle(qtbot, ctx)
    assert ctx.downloads.error == NOT_SET_UP_MESSAGE and ctx.downloads.passphrase_wanted == "create"
    assert win.title_page.status.text() == NOT_SET_UP_MESSAGE
    assert button.isEnabled() and button.text().strip() == "Download"  # a click asks again
    assert not (folder / "drm" / "device-key.json").exists()


def test_the_environment_variable_wins_over_asking(qtbot, window, folder, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(PASSPHRASE_ENV, SECRET)
    ctx, win = open_window(qtbot, window, folder)
    service = ctx.downloads
    assert win.passphrase_prompt.dialog is None and service.error == "" and service._d is not None
    monkeypatch.delenv(PASSPHRASE_ENV)
    assert make_key(folder, SECRET) == service._d.drm.keys().public_raw


def test_a_wrong_environment_variable_is_reported_not_asked(qtbot, window, folder, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    make_key(folder, SECRET)
    monkeypatch.setenv(PASSPHRASE_ENV, "stale value")
    ctx, win = open_window(qtbot, window, folder)
    assert ctx.downloads.error == ENV_WRONG_MESSAGE and ctx.downloads.passphrase_wanted == ""
    with qtbot.waitSignal(ctx.downloads.failed, timeout=10000) as failed:
        ctx.downloads.unlock()
    assert failed.args == [ENV_WRONG_MESSAGE] and win.passphrase_prompt.dialog is None


def test_a_failure_from_an_older_passphrase_is_retried_not_asked(qtbot, folder) -> None:  # type: ignore[no-untyped-def]
    service = DownloadsService(opener(folder, fail.Keyring()), Tasks())
    stale = PassphraseNeeded(creating=False, wrong=True, version=service.passphrase.version)
    service.passphrase.set(SECRET)  # typed while the older attempt was failing
    retried: list[bool] = []
    with qtbot.assertNotEmitted(service.passphraseNeeded):
        service._need_passphrase(stale, lambda: retried.append(True), user_action=True)
    assert retried == [True] and service.passphrase(False) == SECRET


def test_session_passphrase_source() -> None:
    env: dict[str, str] = {}
    source = SessionPassphrase(env)
    with pytest.raises(PassphraseNeeded) as needed:
        source(True)
    assert needed.value.creating and not needed.value.wrong and needed.value.code == "passphrase_required"
    version = source.version
    source.set("typed")
    assert source(False) == "typed" and source.version > version
    env[PASSPHRASE_ENV] = "from env"
    assert source(False) == "from env" and source.from_environment
    source.forget()
    assert source(True) == "from env"
    with pytest.raises(ValueError):
        source.set("")


def test_dialog_refuses_an_empty_passphrase(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = PassphraseDialog(creating=False)
    qtbot.addWidget(dialog)
    assert dialog.try_accept() is False and dialog.error.text() == "Type a passphrase."
    dialog.first.setText("x")
    assert dialog.try_accept() is True and dialog.passphrase() == "x"
