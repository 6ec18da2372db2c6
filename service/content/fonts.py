"""A TrueType font for drawtext and the artwork, found on the system or taken from Pillow."""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

# (style) -> candidate files, most wanted first. Debian/Ubuntu, Fedora, macOS, Windows.
_CANDIDATES: dict[str, tuple[str, ...]] = {
    "sans-bold": (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
        "/System/Library/Fonts/Supplemental/Arial Bold.ttf",
        "C:/Windows/Fonts/arialbd.ttf",
    ),
    "condensed-bold": (
        "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
        "/usr/share/fonts/dejavu-sans-fonts/DejaVuSansCondensed-Bold.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf",
        "/System/Library/Fonts/Supplemental/Arial Narrow Bold.ttf",
        "C:/Windows/Fonts/arialnb.ttf",
    ),
    "serif-bold": (
        "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
        "/usr/share/fonts/dejavu-serif-fonts/DejaVuSerif-Bold.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf",
        "/System/Library/Fonts/Supplemental/Georgia Bold.ttf",
        "C:/Windows/Fonts/georgiab.ttf",
    ),
    "sans": (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        "C:/Windows/Fonts/arial.ttf",
    ),
    "mono-bold": (
        "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
        "/usr/share/fonts/dejavu-sans-mono-fonts/DejaVuSansMono-Bold.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf",
        "/System/Library/Fonts/Menlo.ttc",
        "C:/Windows/Fonts/consolab.ttf",
    ),
}
_FC_PATTERN = {"sans-bold": "sans:bold", "condensed-bold": "sans:condensed:bold", "serif-bold": "serif:bold",
               "sans": "sans", "mono-bold": "monospace:bold"}


def _fc_match(pattern: str) -> Path | None:
    if not shutil.which("fc-match"):
        return None
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(out.stdout.strip())
    return path if out.returncode == 0 and path.suffix.lower() in (".ttf", ".otf") and path.is_file() else None


@lru_cache(maxsize=None)
def system_font(style: str) -> Path | None:
    """A font file for ``style`` or None when the system has none we can use."""
    for candidate in _CANDIDATES.get(style, ()):
        if Path(candidate).is_file():
            return Path(candidate)
    return _fc_match(_FC_PATTERN.get(style, "sans"))


def font_file(style: str, spare_dir: Path) -> Path:
    """A font file path usable by ffmpeg's drawtext.

    Without system fonts, Pillow's built-in scalable font (Pillow >= 10.1) is written
    to ``spare_dir`` once and used instead.
    """
    found = system_font(style)
    if found is not None:
        return found
    from PIL import ImageFont

    target = spare_dir / "marquee-fallback.ttf"
    if not target.is_file():
        default = ImageFont.load_default(size=20)
        data = getattr(default, "font_bytes", None)
        if not data:
            raise RuntimeError("no TrueType font on this system and Pillow has no scalable default font")
        spare_dir.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return target
