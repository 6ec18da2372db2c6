"""Settings, generated from the schema in ``marquee.settings``.

Each setting gets the editor its type calls for; Save validates everything at
once and shows each problem under its field; nothing is stored until all
values are valid.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from marquee.errors import ConfigError
from marquee.settings import SCHEMA, AbrCatalog, Setting, Settings, throttle_presets
from ui.views.dialogs import cancel_accept_row

SECTION_TITLES = {"playback": "PLAYBACK", "downloads": "DOWNLOADS", "privacy": "PRIVACY",
                  "service": "SERVICE", "qa": "QA  ·  APPLIES TO THE NEXT PLAYBACK"}


class _LabelledSlider(QWidget):
    """A bounded whole number (volume): a slider with its value beside it."""

    def __init__(self, lo: int, hi: int, value: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 6, 0, 6)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(lo, hi)
        self.slider.setValue(value)
        self.label = QLabel(str(value), objectName="Meta")
        self.label.setFixedWidth(40)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.slider.valueChanged.connect(lambda v: self.label.setText(str(v)))
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.label)

    def value(self) -> int:
        return self.slider.value()

    def setValue(self, v: int) -> None:
        self.slider.setValue(v)


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, abr_catalog: AbrCatalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumSize(720, 640)
        self._settings = settings
        self._abr = abr_catalog
        self.result_settings = settings
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.hints: dict[str, QLabel] = {}

        outer = QVBoxLayout(self)
        outer.setContentsMargins(28, 24, 28, 20)
        outer.addWidget(QLabel("Settings", objectName="H2"))
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget(objectName="SettingsBody")
        blay = QVBoxLayout(body)
        blay.setContentsMargins(0, 0, 12, 0)
        section = None
        form: QFormLayout | None = None
        for s in SCHEMA:
            if s.section != section:
                section = s.section
                blay.addWidget(QLabel(SECTION_TITLES.get(section, section.upper()), objectName="SectionTitle"))
                panel = QWidget(objectName="SettingsPanel")
                panel.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
                form = QFormLayout(panel)
                form.setContentsMargins(18, 14, 18, 14)
                form.setHorizontalSpacing(24)
                form.setVerticalSpacing(6)
                form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                blay.addWidget(panel)
            assert form is not None
            editor = self._editor(s, settings[s.key])
            self.editors[s.key] = editor
            col = QVBoxLayout()
            col.setSpacing(2)
            col.addWidget(editor if s.key not in ("downloads.location", "qa.throttle") else self._with_browse(s, editor))
            hint = QLabel(s.description, objectName="Hint")
            hint.setWordWrap(True)
            col.addWidget(hint)
            self.hints[s.key] = hint
            err = QLabel("", objectName="FieldError")
            err.setWordWrap(True)
            err.hide()
            self.errors[s.key] = err
            col.addWidget(err)
            col.addSpacing(6)
            label = QLabel(s.label)
            label.setFixedWidth(190)
            form.addRow(label, col)
        blay.addStretch(1)
        scroll.setWidget(body)
        algo = self.editors["qa.abr_algorithm"]
        assert isinstance(algo, QComboBox)
        algo.currentIndexChanged.connect(self._describe_abr)
        self._describe_abr()
        outer.addWidget(scroll, 1)

        self.summary = QLabel("", objectName="Error")
        buttons, self.cancel_button, self.save_button = cancel_accept_row(self, "Save", self.try_save, lead=self.summary)
        outer.addLayout(buttons)

    def _editor(self, s: Setting, value: Any) -> QWidget:
        if s.kind is bool:
            w = QCheckBox("On")
            w.setChecked(bool(value))
            return w
        if s.kind is int and s.minimum is not None and s.maximum is not None:
            return _LabelledSlider(int(s.minimum), int(s.maximum), int(value))
        if s.kind is int:
            sp = QSpinBox()
            sp.setRange(int(s.minimum if s.minimum is not None else -10**9),
                        int(s.maximum if s.maximum is not None else 10**9))
            sp.setValue(int(value))
            return sp
        if s.choices:
            cb = QComboBox()
            for key, label in zip(s.choices, s.choice_labels or s.choices):
                cb.addItem(label, key)
            cb.setCurrentIndex(max(0, cb.findData(value)))
            return cb
        if s.key == "qa.abr_algorithm":
            cb = QComboBox()
            for name in self._abr.names:
                cb.addItem(name, name)
                if self._abr.describe is not None:
                    cb.setItemData(cb.count() - 1, self._abr.describe(name)[0], Qt.ItemDataRole.ToolTipRole)
            if cb.findData(value) < 0:  # a value the ABR package no longer offers: shown, rejected on Save
                cb.addItem(str(value), str(value))
            cb.setCurrentIndex(max(0, cb.findData(value)))
            return cb
        if s.key == "qa.throttle":
            cb = QComboBox()
            cb.setEditable(True)
            for p in throttle_presets():
                cb.addItem(p or "Off", p)
            cb.setCurrentText(str(value) or "Off")
            return cb
        le = QLineEdit(str(value))
        if s.key == "service.url":
            le.setPlaceholderText("Built-in demo service")
        elif s.key == "downloads.location":
            le.setPlaceholderText("Default (the app's data folder)")
        elif s.key == "playback.subtitle_language":
            le.setPlaceholderText("Off")
        return le

    def _describe_abr(self) -> None:
        """Under the parameters field: what the chosen algorithm is and the parameters it takes."""
        algo = self.editors["qa.abr_algorithm"]
        assert isinstance(algo, QComboBox)
        name = str(algo.currentData() or "")
        base = next(s.description for s in SCHEMA if s.key == "qa.abr_params")
        if self._abr.describe is None or not name:
            self.hints["qa.abr_params"].setText(base)
            return
        try:
            summary, params = self._abr.describe(name)
        except Exception:  # an unknown name: Save reports it
            self.hints["qa.abr_params"].setText(base)
            return
        names = ", ".join(f"{p}={d}" for p, d, _doc in params[:8]) + (" …" if len(params) > 8 else "")
        self.hints["qa.abr_algorithm"].setText(summary)
        self.hints["qa.abr_params"].setText(f"name=value, separated by commas. {name} takes: {names or 'nothing'}")
        self.hints["qa.abr_params"].setToolTip("\n".join(f"{p} (default {d}): {doc}" for p, d, doc in params))

    def _with_browse(self, s: Setting, editor: QWidget) -> QWidget:
        box = QWidget()
        h = QHBoxLayout(box)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(editor, 1)
        b = QPushButton("Browse…")
        h.addWidget(b)

        def browse() -> None:
            if s.key == "downloads.location":
                path = QFileDialog.getExistingDirectory(self, "Download location")
                if path:
                    editor.setText(path)  # type: ignore[attr-defined]
            else:
                path, _ = QFileDialog.getOpenFileName(self, "Throughput trace", "", "Traces (*.json *.csv *.txt)")
                if path:
                    editor.setCurrentText(path)  # type: ignore[attr-defined]

        b.clicked.connect(browse)
        return box

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, w in self.editors.items():
            if isinstance(w, QCheckBox):
                out[key] = w.isChecked()
            elif isinstance(w, (QSpinBox, _LabelledSlider)):
                out[key] = w.value()
            elif isinstance(w, QComboBox):
                if w.isEditable():
                    text = w.currentText().strip()
                    out[key] = "" if key == "qa.throttle" and text == "Off" else text
                else:
                    out[key] = w.currentData()
            elif isinstance(w, QLineEdit):
                out[key] = w.text()
        return out

    def try_save(self) -> bool:
        for key, label in self.errors.items():
            label.hide()
            self._mark(key, False)
        try:
            self.result_settings = self._settings.replace(self.values(), self._abr)
        except ConfigError as exc:
            errors: dict[str, str] = getattr(exc, "errors", {}) or {"": exc.user_message}
            for key, msg in errors.items():
                if key in self.errors:
                    self.errors[key].setText(msg)
                    self.errors[key].show()
                    self._mark(key, True)
            n = len(errors)
            self.summary.setText(f"{n} setting{'s' if n != 1 else ''} need{'s' if n == 1 else ''} fixing.")
            return False
        self.summary.setText("")
        self.accept()
        return True

    def _mark(self, key: str, invalid: bool) -> None:
        w = self.editors[key]
        w.setProperty("invalid", invalid)
        w.style().unpolish(w)
        w.style().polish(w)
