"""“Who's watching?”: one avatar per profile, the last one focused."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QAbstractButton, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from marquee.errors import MarqueeError
from ui.catalog import Profile, initial
from ui.context import AppContext


class ProfileButton(QAbstractButton):
    AVATAR = 148

    def __init__(self, profile: Profile, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.profile = profile
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAccessibleName(profile.name)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)

    def sizeHint(self) -> QSize:
        return QSize(self.AVATAR + 20, self.AVATAR + 56)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.click()
            return
        super().keyPressEvent(e)

    def paintEvent(self, e: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        a = QRectF((self.width() - self.AVATAR) / 2, 6, self.AVATAR, self.AVATAR)
        color = QColor(self.profile.avatar_color)
        if not color.isValid():
            color = QColor("#e8485c")
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(color)
        p.drawRoundedRect(a, 14, 14)
        p.setBrush(color.darker(125))
        p.drawRoundedRect(QRectF(a.left(), a.top() + a.height() * 0.66, a.width(), a.height() * 0.34), 14, 14)
        p.drawRect(QRectF(a.left(), a.top() + a.height() * 0.66, a.width(), 16))
        f = QFont(self.font())
        f.setPixelSize(64)
        f.setBold(True)
        p.setFont(f)
        p.setPen(QColor(255, 255, 255, 235))
        p.drawText(a, Qt.AlignmentFlag.AlignCenter, initial(self.profile))
        active = self.hasFocus() or self.underMouse()
        if active:
            pen = p.pen()
            pen.setColor(QColor("#f2f2f5"))
            pen.setWidthF(4)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(a.adjusted(-3, -3, 3, 3), 16, 16)
        f.setPixelSize(17)
        f.setBold(active)
        p.setFont(f)
        p.setPen(QColor("#ffffff" if active else "#a3a3ae"))
        p.drawText(QRectF(0, a.bottom() + 10, self.width(), 30), Qt.AlignmentFlag.AlignHCenter, self.profile.name)
        p.end()


class ProfilePicker(QWidget):
    chosen = Signal(object)  # Profile

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        self._ctx = ctx
        self.buttons: list[ProfileButton] = []
        lay = QVBoxLayout(self)
        lay.addStretch(2)
        self.heading = QLabel("Who's watching?", objectName="PickerTitle", alignment=Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.heading)
        lay.addSpacing(36)
        self.row = QHBoxLayout()
        self.row.setSpacing(28)
        lay.addLayout(self.row)
        self.status = QLabel("", objectName="Meta", alignment=Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.status)
        self.retry = QPushButton("Retry")
        self.retry.clicked.connect(self.reload)
        self.retry.hide()
        lay.addWidget(self.retry, alignment=Qt.AlignmentFlag.AlignCenter)
        lay.addStretch(3)

    def reload(self) -> None:
        self.status.setText("Connecting…")
        self.retry.hide()
        source = self._ctx.source
        self._ctx.tasks.run(source.profiles, self.set_profiles, self._failed, key="profiles")

    def _failed(self, err: MarqueeError) -> None:
        self.status.setText(err.user_message)
        self.retry.show()

    def set_profiles(self, profiles: list[Profile]) -> None:
        while self.row.count():
            item = self.row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.buttons = []
        self.row.addStretch(1)
        for prof in profiles:
            b = ProfileButton(prof)
            b.clicked.connect(lambda _=False, pr=prof: self.chosen.emit(pr))
            self.row.addWidget(b)
            self.buttons.append(b)
        self.row.addStretch(1)
        self.status.setText("" if profiles else "This account has no profiles.")
        self.focus_last()

    def focus_last(self) -> None:
        last = self._ctx.state.last_profile
        for b in self.buttons:
            if b.profile.id == last:
                b.setFocus(Qt.FocusReason.OtherFocusReason)
                return
        if self.buttons:
            self.buttons[0].setFocus(Qt.FocusReason.OtherFocusReason)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        focused = [i for i, b in enumerate(self.buttons) if b.hasFocus()]
        if focused and e.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            step = -1 if e.key() == Qt.Key.Key_Left else 1
            self.buttons[(focused[0] + step) % len(self.buttons)].setFocus(Qt.FocusReason.TabFocusReason)
            return
        super().keyPressEvent(e)
