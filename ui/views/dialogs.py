"""What our dialogs share: the bottom row of buttons."""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QDialog, QHBoxLayout, QPushButton, QWidget


def cancel_accept_row(dialog: QDialog, accept_text: str, on_accept: Callable[[], object],
                      lead: QWidget | None = None) -> tuple[QHBoxLayout, QPushButton, QPushButton]:
    """``[lead, or space] Cancel <accept_text>``: Cancel rejects the dialog, the accent button
    is the default one and calls ``on_accept``. Returns (row, cancel button, accept button)."""
    row = QHBoxLayout()
    if lead is not None:
        row.addWidget(lead, 1)
    else:
        row.addStretch(1)
    cancel = QPushButton("Cancel")
    accept = QPushButton(accept_text, objectName="Accent")
    accept.setDefault(True)
    cancel.clicked.connect(dialog.reject)
    accept.clicked.connect(on_accept)
    row.addWidget(cancel)
    row.addWidget(accept)
    return row, cancel, accept
