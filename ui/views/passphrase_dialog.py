"""The passphrase that protects the device key when there is no OS keystore.

``PassphraseDialog`` has two modes: *create* (first download on this computer: the text
explains what the passphrase protects and that it cannot be recovered; typed twice, a
mismatch keeps the dialog open) and *unlock* (typed once; after a wrong one the service asks
again and the dialog says why). ``PassphrasePrompt`` shows it when ``DownloadsService`` asks
and hands the answer back: ``give_passphrase`` or, on Cancel, ``keep_locked``.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from drm.keystore import PASSPHRASE_ENV
from ui.downloads_service import DownloadsService
from ui.views.dialogs import cancel_accept_row

log = logging.getLogger("marquee.ui.passphrase")

CREATE_TITLE = "Protect your downloads"
CREATE_TEXT = (
    "This computer has no system keychain, so Marquee protects the key that opens your downloads "
    "with a passphrase you choose. Marquee asks for it once per session, the first time you "
    "download or watch offline.")
CREATE_WARNING = (
    "It cannot be recovered: if you forget it, the downloads on this computer cannot be opened "
    "and have to be downloaded again.")
UNLOCK_TITLE = "Unlock your downloads"
UNLOCK_TEXT = "Type the passphrase that protects your downloads on this computer."
MEMORY_HINT = (f"Marquee keeps it in memory until you quit and never saves it. "
               f"When {PASSPHRASE_ENV} is set, that value is used instead of asking.")
EMPTY = "Type a passphrase."
MISMATCH = "The two passphrases differ. Type the second one again."


class PassphraseDialog(QDialog):
    def __init__(self, creating: bool, problem: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.creating = creating
        self.setWindowTitle(CREATE_TITLE if creating else UNLOCK_TITLE)
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(28, 24, 28, 20)
        lay.setSpacing(10)
        lay.addWidget(QLabel(CREATE_TITLE if creating else UNLOCK_TITLE, objectName="H2"))
        text = QLabel(CREATE_TEXT if creating else UNLOCK_TEXT, objectName="Muted")
        text.setWordWrap(True)
        lay.addWidget(text)
        if creating:
            warning = QLabel(CREATE_WARNING)
            warning.setWordWrap(True)
            lay.addWidget(warning)
        lay.addSpacing(6)

        self.first = self._field("Passphrase")
        lay.addWidget(QLabel("Passphrase" if not creating else "New passphrase"))
        lay.addWidget(self.first)
        self.second = self._field("The same passphrase again")
        if creating:
            lay.addWidget(QLabel("Repeat it"))
            lay.addWidget(self.second)
        self.second.setVisible(creating)
        self.show_text = QCheckBox("Show what I type")
        self.show_text.toggled.connect(self._show_typed)
        lay.addWidget(self.show_text)
        self.error = QLabel(problem, objectName="Error")
        self.error.setWordWrap(True)
        self.error.setVisible(bool(problem))
        lay.addWidget(self.error)
        hint = QLabel(MEMORY_HINT, objectName="Hint")
        hint.setWordWrap(True)
        lay.addWidget(hint)

        buttons, self.cancel_button, self.ok_button = cancel_accept_row(
            self, "Create key" if creating else "Unlock", self.try_accept)
        lay.addSpacing(6)
        lay.addLayout(buttons)
        self.first.setFocus(Qt.FocusReason.OtherFocusReason)

    def _field(self, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setEchoMode(QLineEdit.EchoMode.Password)
        edit.setPlaceholderText(placeholder)
        edit.returnPressed.connect(self.try_accept)
        return edit

    def _show_typed(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.first.setEchoMode(mode)
        self.second.setEchoMode(mode)

    def _complain(self, message: str, field: QLineEdit) -> None:
        self.error.setText(message)
        self.error.show()
        field.selectAll()
        field.setFocus(Qt.FocusReason.OtherFocusReason)

    def passphrase(self) -> str:
        return self.first.text()

    def try_accept(self) -> bool:
        if not self.first.text():
            self._complain(EMPTY, self.first)
            return False
        if self.creating and self.second.text() != self.first.text():
            self.second.clear()
            self._complain(MISMATCH, self.second)
            return False
        self.accept()
        return True

    def clear(self) -> None:
        """Drop the typed text from the widgets once it has been handed over."""
        self.first.clear()
        self.second.clear()


class PassphrasePrompt(QObject):
    """Shows ``PassphraseDialog`` (window-modal, never blocking the event loop) when ``service`` asks."""

    def __init__(self, service: DownloadsService, window: QWidget) -> None:
        super().__init__(window)
        self._service = service
        self._window = window
        self.dialog: PassphraseDialog | None = None
        service.passphraseNeeded.connect(self.ask)

    def ask(self, creating: bool, problem: str) -> None:
        if self.dialog is not None:
            return  # already asking; the service retries everything that waits once it is answered
        dialog = PassphraseDialog(creating, problem, self._window)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.finished.connect(self._finished)
        self.dialog = dialog
        dialog.open()

    def _finished(self, result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is None:
            return
        if result == QDialog.DialogCode.Accepted:
            value = dialog.passphrase()
            dialog.clear()
            self._service.give_passphrase(value)
        else:
            log.info("device-key passphrase cancelled: downloads stay locked")
            self._service.keep_locked()
        dialog.deleteLater()
