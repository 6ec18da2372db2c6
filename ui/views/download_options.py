"""Per-download choices: quality, audio languages, subtitles and format (DASH or HLS).

The title page's Download button downloads with the settings' defaults in one click; its
options button opens ``DownloadOptionsDialog`` for this one download. The qualities are the
names ``downloads.plan`` accepts (the CLI's ``--quality``). The catalogue does not list a
title's tracks, so the languages start from the playback settings and are typed as codes
(``all`` keeps every subtitle track); a language the title lacks falls back as in the CLI
(the first audio track; no subtitles).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGridLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from downloads.api import FORMATS
from downloads.plan import QUALITY_HEIGHTS
from marquee.settings import Settings
from ui.views.dialogs import cancel_accept_row

QUALITY_LABELS = {"low": "Lowest (smallest files)", "standard": "Standard (up to 480p)",
                  "high": "High (up to 720p)", "max": "Maximum (best available)"}
FORMAT_LABELS = {"dash": "DASH (recommended)", "hls": "HLS"}
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True)
class DownloadChoices:
    quality: str
    audio: tuple[str, ...]
    subtitles: tuple[str, ...]  # empty: no subtitles
    format: str


def parse_languages(text: str, *, allow_all: bool) -> tuple[str, ...]:
    """``"en, fr"`` -> ``("en", "fr")``; raises ValueError naming the first bad code."""
    codes: list[str] = []
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        code = part if "-" in part else part.lower()
        if code == "all" and not allow_all:
            raise ValueError("“all” works for subtitles only: name the audio languages (e.g. en, fr).")
        if not _LANGUAGE.match(code):
            raise ValueError(f"“{part}” is not a language code (use two or three letters, e.g. en, fr, pt-BR).")
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def default_choices(settings: Settings) -> DownloadChoices:
    """What one click on Download uses (``downloads.api`` reads the same settings)."""
    subtitle = str(settings["playback.subtitle_language"] or "")
    return DownloadChoices(str(settings["downloads.quality"]), (str(settings["playback.audio_language"]),),
                           (subtitle,) if subtitle else (), FORMATS[0])


def _hint(text: str) -> QLabel:
    hint = QLabel(text, objectName="Hint")
    hint.setWordWrap(True)
    return hint


class DownloadOptionsDialog(QDialog):
    def __init__(self, what: str, defaults: DownloadChoices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Download options")
        self.setMinimumWidth(520)
        self.choices = defaults
        lay = QVBoxLayout(self)
        lay.setContentsMargins(28, 24, 28, 20)
        lay.setSpacing(10)
        lay.addWidget(QLabel("Download options", objectName="H2"))
        self.subject = QLabel(what, objectName="Muted")
        self.subject.setWordWrap(True)
        lay.addWidget(self.subject)

        self.quality = QComboBox()
        for name in QUALITY_HEIGHTS:
            self.quality.addItem(QUALITY_LABELS.get(name, name), name)
        self.quality.setCurrentIndex(max(0, self.quality.findData(defaults.quality)))
        self.audio = QLineEdit(", ".join(defaults.audio))
        self.audio.setPlaceholderText("e.g. en, fr")
        self.subtitles = QLineEdit(", ".join(defaults.subtitles))
        self.subtitles.setPlaceholderText("none")
        self.format = QComboBox()
        for name in FORMATS:
            self.format.addItem(FORMAT_LABELS.get(name, name.upper()), name)
        self.format.setCurrentIndex(max(0, self.format.findData(defaults.format)))
        grid = QGridLayout()
        grid.setHorizontalSpacing(20)
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(1, 1)
        rows: list[tuple[str, QWidget, str]] = [
            ("Quality", self.quality, ""),
            ("Audio languages", self.audio, "The tracks to keep; the first one plays by default."),
            ("Subtitles", self.subtitles, "Languages to keep, “all”, or empty for none."),
            ("Format", self.format, ""),
        ]
        row = 0
        for label, editor, hint in rows:
            grid.addWidget(QLabel(label), row, 0, Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(editor, row, 1)
            row += 1
            if hint:
                grid.addWidget(_hint(hint), row, 1)
                row += 1
            grid.setRowMinimumHeight(row, 8)
            row += 1
        lay.addLayout(grid)

        self.error = QLabel("", objectName="Error")
        self.error.setWordWrap(True)
        self.error.hide()
        lay.addWidget(self.error)
        buttons, self.cancel_button, self.download_button = cancel_accept_row(self, "Download", self.try_accept)
        lay.addSpacing(6)
        lay.addLayout(buttons)

    def try_accept(self) -> bool:
        try:
            audio = parse_languages(self.audio.text(), allow_all=False)
            subtitles = parse_languages(self.subtitles.text(), allow_all=True)
        except ValueError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return False
        if not audio:
            self.error.setText("Keep at least one audio language (e.g. en).")
            self.error.show()
            return False
        self.choices = DownloadChoices(str(self.quality.currentData()), audio, subtitles,
                                       str(self.format.currentData()))
        self.accept()
        return True
