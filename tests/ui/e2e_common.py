"""What the end-to-end drivers (``e2e_driver.py``, ``first_start_driver.py``) check alike."""

from __future__ import annotations

from typing import Any


def brightness(img: Any) -> int:
    """The brightest channel of a frame scaled down to 64x36: near 0 for a black picture."""
    small = img.scaled(64, 36)
    return max(max(small.pixelColor(x, y).red(), small.pixelColor(x, y).green(), small.pixelColor(x, y).blue())
               for x in range(small.width()) for y in range(small.height()))


class PlayheadAdvances:
    """True once the player's position has moved ``by_s`` past the first position it showed."""

    def __init__(self, player: Any, by_s: float = 2.0) -> None:
        self.player = player
        self.by_s = by_s
        self.first: float | None = None

    def __call__(self) -> bool:
        pos = self.player.bridge.last.position_s
        if self.first is None and pos > 0:
            self.first = pos
        return self.first is not None and pos >= self.first + self.by_s
