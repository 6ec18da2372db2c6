"""Generated key art per title and variant: a poster (2:3) and a backdrop (16:9) carrying the
title's lettering, as tiles show them, and a hero (16:9): the backdrop's picture alone, for the
home banner and the title page, which write the title themselves.

Each variant emphasises what ``artwork_tags`` in the catalogue names (default,
action, drama, comedy), so the service can pick the art that fits a profile's taste:

- default: the title's own palette (from its first genre), a sun over layered hills;
- action: hot orange on deep teal, diagonal slashes, condensed capitals;
- drama: dark, desaturated, a lone silhouette, a serif title and room to breathe;
- comedy: bright pastel, confetti, a big rounded title.

Deterministic (seeded by title id and variant); Pillow only; no third-party art.
"""

from __future__ import annotations

import colorsys
import hashlib
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from service.content.fonts import system_font

POSTER_SIZE = (400, 600)
BACKDROP_SIZE = (1280, 720)
KINDS = ("poster", "backdrop", "hero")
RGB = tuple[int, int, int]

GENRE_HUES: dict[str, float] = {
    "Drama": 0.60, "Comedy": 0.13, "Thriller": 0.97, "Sci-Fi": 0.52, "Action": 0.06, "Romance": 0.93,
    "Horror": 0.0, "Documentary": 0.33, "Animation": 0.80, "Crime": 0.70, "Fantasy": 0.75, "Family": 0.16,
    "Mystery": 0.68, "Adventure": 0.09,
}


@dataclass(frozen=True)
class ArtSubject:
    """What the artwork needs to know about a title."""

    id: str
    title: str
    year: int
    genres: tuple[str, ...]
    kind: str  # "film" | "series"
    seasons: int = 0


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, max(0.0, min(s, 1.0)), max(0.0, min(v, 1.0)))
    return int(r * 255), int(g * 255), int(b * 255)


@lru_cache(maxsize=64)
def _font(style: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = system_font(style) or system_font("sans-bold")
    if path is not None:
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


@lru_cache(maxsize=16)
def _linear_mask(size: tuple[int, int], angle: float) -> Image.Image:
    mask = Image.linear_gradient("L")
    if angle:
        mask = mask.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=None)
        mask = mask.crop((40, 40, 216, 216))
    return mask.resize(size, Image.Resampling.BILINEAR)


@lru_cache(maxsize=16)
def _radial_mask(size: tuple[int, int], strength: float) -> Image.Image:
    mask = Image.radial_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return mask.point(lambda p: int(min(255, p * strength)))


@lru_cache(maxsize=16)
def _scrim_mask(size: tuple[int, int], vertical: bool, strength: float) -> Image.Image:
    mask = Image.linear_gradient("L")
    if not vertical:
        mask = mask.rotate(90, expand=True)
    return mask.resize(size, Image.Resampling.BILINEAR).point(lambda p: int(p * strength))


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB, angle: float = 0.0) -> Image.Image:
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), _linear_mask(size, angle))


def _vignette(img: Image.Image, strength: float) -> Image.Image:
    return Image.composite(Image.new("RGB", img.size, (0, 0, 0)), img, _radial_mask(img.size, strength))


def _soft(layer: Image.Image, radius: float) -> Image.Image:
    """Blur cheaply: at a quarter size, then back up."""
    w, h = layer.size
    small = layer.resize((max(w // 4, 1), max(h // 4, 1)), Image.Resampling.BILINEAR)
    return small.filter(ImageFilter.GaussianBlur(radius / 4)).resize((w, h), Image.Resampling.BILINEAR)


def _wrap(draw: ImageDraw.ImageDraw, text: str, style: str, max_w: int, start: int, min_size: int,
          max_lines: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, list[str]]:
    words = text.split()
    size = start
    while True:
        font = _font(style, size)
        lines: list[str] = []
        for word in words:
            trial = f"{lines[-1]} {word}" if lines else word
            if lines and draw.textlength(trial, font=font) <= max_w:
                lines[-1] = trial
            else:
                lines.append(word)
        fits = all(draw.textlength(line, font=font) <= max_w for line in lines) and len(lines) <= max_lines
        if fits or size <= min_size:
            return font, lines
        size = int(size * 0.9)


def _draw_title(img: Image.Image, text: str, style: str, box: tuple[int, int, int, int], color: RGB,
                align: str = "left", anchor_bottom: bool = True, start: int = 80, max_lines: int = 3,
                shadow: int = 3) -> int:
    """Typeset ``text`` inside ``box``; returns the y of the first line's top."""
    draw = ImageDraw.Draw(img)
    x0, y0, x1, y1 = box
    font, lines = _wrap(draw, text, style, x1 - x0, start, 14, max_lines)
    ascent, descent = font.getmetrics() if hasattr(font, "getmetrics") else (start, 0)
    line_h = int((ascent + descent) * 0.98)
    total = line_h * len(lines)
    y = y1 - total if anchor_bottom else y0
    top = y
    for line in lines:
        w = draw.textlength(line, font=font)
        x = x0 if align == "left" else int(x0 + (x1 - x0 - w) / 2)
        if shadow:
            draw.text((x + shadow, y + shadow), line, font=font, fill=(0, 0, 0))
        draw.text((x, y), line, font=font, fill=color)
        y += line_h
    return top


def _meta_line(subject: ArtSubject) -> str:
    kind = f"{subject.seasons} SEASON{'S' if subject.seasons != 1 else ''}" if subject.kind == "series" else "FILM"
    return "   ".join([str(subject.year), " · ".join(g.upper() for g in subject.genres[:2]), kind])


def _brand(img: Image.Image, x: int, y: int, size: int, color: RGB) -> None:
    draw = ImageDraw.Draw(img)
    draw.text((x, y), "MARQUEE", font=_font("sans-bold", size), fill=color)


# --- compositions ------------------------------------------------------------------------

def _hills(img: Image.Image, rng: random.Random, hue: float, layers: int = 4) -> None:
    w, h = img.size
    for k in range(layers):  # farther ones lighter
        pts = [(0, h)]
        base = h * (0.58 + 0.1 * k)
        for i in range(9):
            pts.append((int(w * i / 8), int(base - rng.uniform(0.02, 0.14) * h)))
        pts.append((w, h))
        ImageDraw.Draw(img).polygon(pts, fill=_hsv(hue + 0.03 * k, 0.65, 0.50 - 0.12 * k))


def _skyline(img: Image.Image, rng: random.Random, hue: float) -> None:
    w, h = img.size
    d = ImageDraw.Draw(img)
    for k, shade in enumerate((0.32, 0.14)):
        x = -rng.randint(0, 30)
        while x < w:
            bw = int(w * rng.uniform(0.05, 0.12))
            bh = int(h * rng.uniform(0.12, 0.38) * (1.0 if k else 0.8))
            top = int(h * 0.78) - bh + k * int(h * 0.06)
            d.rectangle((x, top, x + bw, h), fill=_hsv(hue + 0.5, 0.35, shade))
            if k:
                for wy in range(top + 8, h - 8, 14):
                    for wx in range(x + 5, x + bw - 6, 11):
                        if rng.random() < 0.18:
                            d.rectangle((wx, wy, wx + 4, wy + 6), fill=_hsv(0.12, 0.5, 0.95))
            x += bw + rng.randint(2, 10)


def _rings(img: Image.Image, rng: random.Random, hue: float) -> None:
    w, h = img.size
    cx, cy = int(w * rng.uniform(0.3, 0.7)), int(h * rng.uniform(0.28, 0.4))
    d = ImageDraw.Draw(img)
    for k in range(9, 0, -1):
        r = int(min(w, h) * 0.07 * k)
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_hsv(hue + 0.025 * k, 0.55 + 0.03 * k, 0.95 - 0.08 * k))


def _scene_default(size: tuple[int, int], rng: random.Random, hue: float) -> Image.Image:
    w, h = size
    img = _gradient(size, _hsv(hue, 0.65, 0.28), _hsv(hue + 0.1, 0.75, 0.9))
    motif = rng.randrange(3)
    if motif == 1:
        _rings(img, rng, hue)
        return _vignette(img, 1.0)
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    r = int(min(w, h) * rng.uniform(0.16, 0.26))
    cx, cy = int(w * rng.uniform(0.3, 0.8)), int(h * rng.uniform(0.22, 0.38))
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(*_hsv(hue + 0.15, 0.3, 1.0), 255))
    glow = _soft(layer, 30)
    img.paste(glow, (0, 0), glow)
    img.paste(layer, (0, 0), layer)
    if motif == 0:
        _hills(img, rng, hue)
    else:
        _skyline(img, rng, hue)
    return _vignette(img, 0.9)


ACTION_GROUNDS = ((8, 38, 48), (40, 6, 10), (10, 14, 40), (22, 22, 24))


def _scene_action(size: tuple[int, int], rng: random.Random, hue: float) -> Image.Image:
    w, h = size
    ground = ACTION_GROUNDS[rng.randrange(len(ACTION_GROUNDS))]
    img = _gradient(size, ground, tuple(min(255, int(c * 1.9)) for c in ground), angle=20)  # type: ignore[arg-type]
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    slant = rng.choice((-1, 1)) * h * rng.uniform(0.45, 0.8)
    for i in range(rng.randint(5, 8)):
        x = int(w * rng.uniform(-0.3, 1.1))
        thick = int(w * rng.uniform(0.02, 0.12))
        color = _hsv(0.06 + rng.uniform(-0.04, 0.05), 0.9, 1.0) if i % 3 else (255, 232, 190)
        d.polygon([(x, h), (x + thick, h), (x + thick + int(slant), 0), (x + int(slant), 0)],
                  fill=(*color, rng.randint(110, 230)))
    glow = _soft(layer, 40)
    img.paste(glow, (0, 0), glow)
    img.paste(layer, (0, 0), layer)
    return _vignette(img, 1.1)


def _figure(d: ImageDraw.ImageDraw, fx: int, fy: int, fh: int, color: RGB) -> None:
    fw = max(fh // 4, 6)
    d.ellipse((fx - fw // 2, fy - fh - fw, fx + fw // 2, fy - fh), fill=color)
    d.rounded_rectangle((fx - fw, fy - fh, fx + fw, fy), radius=fw // 2, fill=color)


def _scene_drama(size: tuple[int, int], rng: random.Random, hue: float) -> Image.Image:
    w, h = size
    img = _gradient(size, _hsv(hue, 0.3, 0.10), _hsv(hue + 0.05, 0.4, 0.40))
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    side = rng.choice((0.3, 0.7))
    lx, ly = int(w * side), int(h * rng.uniform(0.22, 0.34))
    d.ellipse((lx - w * 0.4, ly - h * 0.25, lx + w * 0.4, ly + h * 0.25), fill=(*_hsv(hue + 0.08, 0.45, 0.9), 120))
    glow = _soft(layer, 80)
    img.paste(glow, (0, 0), glow)
    d2 = ImageDraw.Draw(img)
    fy = int(h * rng.uniform(0.68, 0.74))
    people = rng.choice((1, 1, 2, 3))
    for k in range(people):
        fh = int(h * rng.uniform(0.24, 0.34) * (1 - 0.18 * k))
        step = int(fh * 0.6) * k
        fx = int(w * side) + (step if side < 0.5 else -step)
        _figure(d2, fx, fy - int(h * 0.02 * k), fh, (10, 10, 14))
    d2.rectangle((0, fy, w, h), fill=_hsv(hue, 0.3, 0.08))
    return _vignette(img, 1.3)


PASTELS = (0.13, 0.95, 0.52, 0.42, 0.75)


def _scene_comedy(size: tuple[int, int], rng: random.Random, hue: float) -> Image.Image:
    w, h = size
    poster = h > w
    clear = (0, 0, w, int(h * 0.45)) if poster else (0, int(h * 0.3), int(w * 0.62), h)  # where the type goes
    a, b = rng.sample(PASTELS, 2)
    img = _gradient(size, _hsv(a, 0.45, 1.0), _hsv(b, 0.5, 0.98), angle=45)
    d = ImageDraw.Draw(img)
    r = int(min(w, h) * rng.uniform(0.45, 0.6))
    cx, cy = int(w * rng.uniform(0.55, 0.85)), int(h * 0.82)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 255, 255))
    d.ellipse((cx - r + 16, cy - r + 16, cx + r - 16, cy + r - 16), fill=_hsv(rng.choice(PASTELS), 0.6, 1.0))
    placed = 0
    while placed < 30:
        cr = int(min(w, h) * rng.uniform(0.012, 0.04))
        x, y = rng.randrange(w), rng.randrange(h)
        if clear[0] - cr <= x <= clear[2] + cr and clear[1] - cr <= y <= clear[3] + cr:
            continue
        placed += 1
        color = _hsv(rng.choice(PASTELS) + rng.uniform(-0.03, 0.03), 0.8, 0.95)
        if rng.random() < 0.5:
            d.ellipse((x - cr, y - cr, x + cr, y + cr), fill=color)
        else:
            d.rounded_rectangle((x - cr, y - cr // 2, x + cr, y + cr // 2), radius=cr // 3, fill=color)
    return img


SCENES = {"default": _scene_default, "action": _scene_action, "drama": _scene_drama, "comedy": _scene_comedy}
TITLE_STYLE = {"default": "sans-bold", "action": "condensed-bold", "drama": "serif-bold", "comedy": "sans-bold"}


def _rng(subject: ArtSubject, tag: str) -> random.Random:
    return random.Random(int(hashlib.sha256(f"{subject.id}/{tag}".encode()).hexdigest()[:12], 16))


def _hue(subject: ArtSubject) -> float:
    base = GENRE_HUES.get(subject.genres[0] if subject.genres else "", 0.6)
    return base + (int(hashlib.sha256(subject.id.encode()).hexdigest()[:4], 16) / 65536 - 0.5) * 0.08


def _title_text(subject: ArtSubject, tag: str) -> str:
    return subject.title.upper() if tag in ("action", "default") else subject.title


def render(subject: ArtSubject, tag: str, kind: str) -> Image.Image:
    """One image: ``kind`` one of ``KINDS``; ``tag`` one of the catalogue's artwork tags."""
    tag = tag if tag in SCENES else "default"
    size = POSTER_SIZE if kind == "poster" else BACKDROP_SIZE
    w, h = size
    picture = "backdrop" if kind == "hero" else kind  # the hero is the backdrop's very picture
    img = SCENES[tag](size, _rng(subject, tag + picture), _hue(subject))
    if kind == "hero":
        if tag != "comedy":  # the same scrim on the left, under the UI's text
            img.paste(Image.new("RGB", size, (0, 0, 0)), (0, 0), _scrim_mask(size, False, 0.8))
        return img
    dark_text = tag == "comedy"
    ink: RGB = (30, 24, 40) if dark_text else (250, 248, 240)
    accent: RGB = {"action": (255, 150, 40), "comedy": (230, 40, 110), "drama": (210, 200, 180)}.get(
        tag, _hsv(_hue(subject) + 0.1, 0.35, 1.0))
    style = TITLE_STYLE[tag]
    shadow = 0 if dark_text else max(w // 250, 2)
    if kind == "poster":
        if tag != "comedy":  # a dark floor for the type
            floor = _scrim_mask((w, h // 2), True, 0.85)
            img.paste(Image.new("RGB", (w, h // 2), (0, 0, 0)), (0, h - h // 2), floor)
        _brand(img, 24, 22, 17, accent)
        meta_font = _font("sans", 15)
        if tag == "comedy":
            _draw_title(img, _title_text(subject, tag), style, (26, 64, w - 26, int(h * 0.40)), ink, align="center",
                        anchor_bottom=True, start=56, shadow=0)
            ImageDraw.Draw(img).text((w // 2, int(h * 0.40) + 26), _meta_line(subject), font=meta_font, fill=ink,
                                     anchor="mm")
        else:
            align = "center" if tag == "drama" else "left"
            top = _draw_title(img, _title_text(subject, tag), style, (26, h // 2, w - 26, h - 64), ink,
                              align=align, start=72 if tag == "action" else 58, shadow=shadow)
            d = ImageDraw.Draw(img)
            if align == "left":
                d.rectangle((26, top - 18, 86, top - 12), fill=accent)
                d.text((26, h - 44), _meta_line(subject), font=meta_font, fill=(220, 220, 220))
            else:
                d.text((w // 2, h - 36), _meta_line(subject), font=meta_font, fill=(220, 220, 220), anchor="mm")
    else:
        if tag != "comedy":  # a scrim on the left for the UI's text
            scrim = _scrim_mask((w, h), False, 0.8)
            img.paste(Image.new("RGB", size, (0, 0, 0)), (0, 0), scrim)
        _brand(img, 60, 48, 26, accent)
        top = _draw_title(img, _title_text(subject, tag), style, (60, 120, int(w * 0.55), h - 110), ink,
                          start=104 if tag == "action" else 88, max_lines=2, shadow=shadow)
        d = ImageDraw.Draw(img)
        d.rectangle((60, top - 26, 150, top - 18), fill=accent)
        d.text((60, h - 80), _meta_line(subject), font=_font("sans", 24), fill=ink if dark_text else (225, 225, 225))
    return img


def write_artwork(subject: ArtSubject, tags: Sequence[str], dest: Path) -> list[Path]:
    """Write ``<kind>-<v>.jpg`` for every kind and variant into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for v, tag in enumerate(tags):
        for kind in KINDS:
            path = dest / f"{kind}-{v}.jpg"
            render(subject, tag, kind).save(path, "JPEG", quality=86, optimize=False, progressive=True)
            written.append(path)
    return written
