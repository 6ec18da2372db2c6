"""Generated key art per title and variant: a poster (2:3) and a backdrop (16:9) carrying the
title's lettering, as tiles show them, and a hero (16:9): the backdrop's picture alone, for the
home banner and the title page, which write the title themselves.

Every title has its own composition, so a row of posters reads at a glance:

- a motif family from its first genre (``motifs.GENRE_MOTIFS``: a ringed planet for Sci-Fi,
  a window and a figure for Drama, bare trees under a red moon for Horror, ...);
- a palette from the genre's hue, moved per title, in one of several colour schemes;
- a lettering layout (title at the foot, at the head, in a band, or stacked big) that also
  decides where the picture's subject sits.

The variants keep that identity (motif, placement, layout) and change what they emphasise,
as ``artwork_tags`` in the catalogue names them, so the service can pick the art that fits a
profile's taste:

- default: the title's own palette and lettering;
- action: the title's hue deep and saturated against hot orange (or teal), speed slashes,
  high contrast, condensed capitals;
- drama: a warm monochrome, a lone figure, a serif title with room to breathe;
- comedy: bright pastel, confetti, a big rounded title in dark ink.

Deterministic (seeded by title id); Pillow only; no third-party art.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

from service.content.fonts import system_font
from service.content.motifs import GENRE_MOTIFS, SCHEMES, Box, Palette, figure, horizon, hsv, palette

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


# --- composition -----------------------------------------------------------------------------

POSTER_LAYOUTS = ("foot", "head", "band", "stacked", "column", "frame")


@dataclass(frozen=True)
class Composition:
    """What stays the same in every variant of one title."""

    hue: float
    scheme: str
    layout: str  # one of POSTER_LAYOUTS
    genre: str  # the one whose motif is drawn
    light_from: float  # the sky gradient's angle, degrees


def composition(subject: ArtSubject) -> Composition:
    rng = _rng(subject, "composition")
    genre = next((g for g in subject.genres if g in GENRE_MOTIFS), "Documentary")
    hue = GENRE_HUES.get(genre, 0.6) + rng.uniform(-0.09, 0.09)
    return Composition(hue=hue, scheme=rng.choice(sorted(SCHEMES)), layout=rng.choice(POSTER_LAYOUTS), genre=genre,
                       light_from=rng.choice((0.0, 45.0, -45.0, 90.0, 180.0)))


def _focus(size: tuple[int, int], layout: str) -> Box:
    """Where the picture's subject goes, given where the lettering goes."""
    w, h = size
    if w > h:  # backdrop and hero: the lettering (and the UI's text) on the left; the title page fades the foot
        return int(w * 0.45), int(h * 0.05), w, int(h * 0.7)
    return {"foot": (0, int(h * 0.06), w, int(h * 0.6)), "head": (0, int(h * 0.4), w, h - 40),
            "band": (0, 0, w, int(h * 0.62)), "stacked": (int(w * 0.25), int(h * 0.42), w, h),
            "column": (int(w * 0.4), 0, w, h), "frame": (28, 28, w - 28, int(h * 0.64))}[layout]


def _hot_accent(hue: float) -> RGB:
    """Orange, or electric teal on titles that are orange already."""
    return hsv(0.5, 0.85, 1.0) if (hue % 1.0) < 0.16 or (hue % 1.0) > 0.94 else hsv(0.07, 0.9, 1.0)


def _variant_palette(comp: Composition, tag: str, rng: random.Random) -> Palette:
    if tag == "action":  # the title's hue, deep and saturated, against one hot accent
        hot = _hot_accent(comp.hue)
        return Palette(hue=comp.hue, sky_top=hsv(comp.hue, 0.85, 0.16), sky_bottom=hsv(comp.hue + 0.03, 0.8, 0.45),
                       ground=hsv(comp.hue, 0.6, 0.06), main=hsv(comp.hue - 0.03, 0.75, 0.6), accent=hot,
                       light=hsv(0.1, 0.3, 1.0))
    if tag == "comedy":  # pastel sky, saturated toys
        return Palette(hue=comp.hue, sky_top=hsv(comp.hue, 0.25, 1.0), sky_bottom=hsv(comp.hue + 0.1, 0.35, 0.98),
                       ground=hsv(comp.hue, 0.5, 0.45), main=hsv(comp.hue + 0.5, 0.55, 0.95),
                       accent=hsv(comp.hue + 0.8, 0.7, 1.0), light=(255, 255, 255))
    return palette(comp.hue, comp.scheme, rng)


def _picture(subject: ArtSubject, tag: str, size: tuple[int, int]) -> Image.Image:
    """The title's picture in the variant's emphasis, without lettering."""
    comp = composition(subject)
    # the same seed for every variant: one title keeps its motif's placement and detail
    rng = _rng(subject, f"picture-{size[0]}x{size[1]}")
    pal = _variant_palette(comp, tag, random.Random(rng.random()))
    w, h = size
    img = _gradient(size, pal.sky_top, pal.sky_bottom, comp.light_from)
    box = _focus(size, comp.layout)
    GENRE_MOTIFS.get(comp.genre, horizon)(img, rng, pal, box)
    if tag == "action":
        layer = Image.new("RGBA", size, (0, 0, 0, 0))
        d = ImageDraw.Draw(layer)
        slant = h * 0.6
        for i in range(6):
            x = int(w * (i / 6) + w * 0.05)
            d.polygon([(x, h), (x + w // 60, h), (x + w // 60 + slant, 0), (x + slant, 0)], fill=(*_hot_accent(comp.hue), 70))
        img.paste(layer, (0, 0), layer)
        img = ImageEnhance.Contrast(img).enhance(1.35)
        return _vignette(img, 1.1)
    if tag == "drama":
        # a warm monochrome, like a still from the film: the title's colours give way to its light
        img = ImageOps.colorize(ImageOps.autocontrast(img.convert("L"), cutoff=1), black=(22, 17, 14),
                                white=(240, 226, 196), mid=(150, 134, 112))
        d = ImageDraw.Draw(img)
        x0, _, x1, y1 = box
        side = x0 + (x1 - x0) // 5 if comp.layout in ("foot", "band") else x1 - (x1 - x0) // 5
        figure(d, side, y1, int((y1 - box[1]) * 0.35), (6, 6, 8))
        return _vignette(img, 1.1)
    if tag == "comedy":
        d = ImageDraw.Draw(img)
        for _ in range(36):
            cr = int(min(w, h) * rng.uniform(0.008, 0.022))
            x, y = rng.randrange(w), rng.randrange(h)
            color = hsv(rng.random(), 0.75, 0.98)
            d.rounded_rectangle((x - cr, y - cr // 2, x + cr, y + cr // 2), radius=max(cr // 3, 1), fill=color)
        return ImageEnhance.Brightness(img).enhance(1.08)
    return _vignette(img, 0.8)


TITLE_STYLE = {"default": "sans-bold", "action": "condensed-bold", "drama": "serif-bold", "comedy": "sans-bold"}
TAGS = tuple(TITLE_STYLE)


def _rng(subject: ArtSubject, tag: str) -> random.Random:
    return random.Random(int(hashlib.sha256(f"{subject.id}/{tag}".encode()).hexdigest()[:12], 16))


def _title_text(subject: ArtSubject, tag: str) -> str:
    return subject.title.upper() if tag in ("action", "default") else subject.title


def _scrim(img: Image.Image, box: Box, vertical: bool, from_end: bool, strength: float, light: bool = False) -> None:
    """Darken (or, under dark type, lighten) ``box`` of ``img`` towards one edge, for the type there."""
    w, h = box[2] - box[0], box[3] - box[1]
    mask = _scrim_mask((w, h), vertical, strength)
    if not from_end:
        mask = mask.transpose(Image.Transpose.FLIP_TOP_BOTTOM if vertical else Image.Transpose.FLIP_LEFT_RIGHT)
    img.paste(Image.new("RGB", (w, h), (255, 252, 245) if light else (0, 0, 0)), (box[0], box[1]), mask)


def _poster_lettering(img: Image.Image, subject: ArtSubject, tag: str, comp: Composition, ink: RGB,
                      accent: RGB) -> None:
    w, h = img.size
    layout, hue = comp.layout, comp.hue
    style, text = TITLE_STYLE[tag], _title_text(subject, tag)
    light_bg = tag == "comedy"
    shadow = 0 if light_bg else 2
    meta_font = _font("sans", 15)
    meta_ink = ink if light_bg else (220, 220, 220)
    big = {"action": 74, "drama": 50, "comedy": 64}.get(tag, 62)
    align = "center" if tag in ("drama", "comedy") else "left"
    d = ImageDraw.Draw(img)
    if layout == "foot":
        _scrim(img, (0, h // 2, w, h), True, True, 0.75 if light_bg else 0.85, light_bg)
        _brand(img, 24, 22, 17, accent)
        top = _draw_title(img, text, style, (26, h // 2, w - 26, h - 64), ink, align=align, start=big, shadow=shadow)
        d.rectangle((26, top - 18, 86, top - 12), fill=accent)
        d.text((26, h - 44), _meta_line(subject), font=meta_font, fill=meta_ink)
    elif layout == "head":
        _scrim(img, (0, 0, w, h // 2), True, False, 0.75 if light_bg else 0.85, light_bg)
        _brand(img, 24, h - 40, 17, accent)
        bottom = int(h * 0.36)
        _draw_title(img, text, style, (26, 40, w - 26, bottom), ink, align=align, anchor_bottom=False, start=big,
                    shadow=shadow)
        d.text((26, bottom + 8), _meta_line(subject), font=meta_font, fill=meta_ink)
    elif layout == "band":
        band = (0, int(h * 0.62), w, h)
        d.rectangle(band, fill=(250, 246, 236) if light_bg else hsv(hue, 0.5, 0.12))
        d.rectangle((0, band[1], w, band[1] + 6), fill=accent)
        _brand(img, 24, 22, 17, accent)
        _draw_title(img, text, style, (26, band[1] + 24, w - 26, h - 52), ink, align="center", anchor_bottom=False,
                    start=int(big * 0.8), max_lines=2, shadow=0)
        d.text((w // 2, h - 30), _meta_line(subject), font=meta_font, fill=meta_ink, anchor="mm")
    elif layout == "column":  # the title down the left side, the picture on the right
        _scrim(img, (0, 0, int(w * 0.8), h), False, False, 0.75 if light_bg else 0.85, light_bg)
        _brand(img, 24, 22, 17, accent)
        top = _draw_title(img, text, style, (26, int(h * 0.2), int(w * 0.72), int(h * 0.78)), ink, align="left",
                          start=int(big * 0.85), max_lines=4, shadow=shadow)
        d.rectangle((26, top - 18, 86, top - 12), fill=accent)
        d.text((26, h - 44), _meta_line(subject), font=meta_font, fill=meta_ink)
    elif layout == "frame":  # the picture as a framed print on a plain card, the title under it
        x0, y0, x1, y1 = _focus((w, h), layout)
        card = (246, 240, 228) if light_bg else hsv(hue, 0.45, 0.2)  # tinted: the tile's edge shows on the dark UI
        for rect in ((0, 0, w, y0), (0, y1, w, h), (0, 0, x0, h), (x1, 0, w, h)):
            d.rectangle(rect, fill=card)
        d.rectangle((x0 - 3, y0 - 3, x1 + 3, y1 + 3), outline=accent, width=3)
        _draw_title(img, text, style, (26, y1 + 22, w - 26, h - 52), ink, align="center", anchor_bottom=False,
                    start=int(big * 0.75), max_lines=2, shadow=0)
        d.text((w // 2, h - 30), _meta_line(subject), font=meta_font, fill=meta_ink, anchor="mm")
    else:  # stacked: one big word a line, top left, the picture in the lower right
        _scrim(img, (0, 0, w, int(h * 0.6)), True, False, 0.7, light_bg)
        _draw_title(img, text, style, (26, 34, w - 26, int(h * 0.62)), ink, align="left", anchor_bottom=False,
                    start=int(big * 1.25), max_lines=4, shadow=shadow)
        _brand(img, 26, h - 40, 17, accent)
        d.text((26, h - 64), _meta_line(subject), font=meta_font, fill=meta_ink)


def render(subject: ArtSubject, tag: str, kind: str) -> Image.Image:
    """One image: ``kind`` one of ``KINDS``; ``tag`` one of the catalogue's artwork tags."""
    tag = tag if tag in TITLE_STYLE else "default"
    size = POSTER_SIZE if kind == "poster" else BACKDROP_SIZE
    w, h = size
    img = _picture(subject, tag, size)  # the hero is the backdrop's very picture
    light_bg = tag == "comedy"
    if kind == "hero":
        if not light_bg:  # the same scrim on the left, under the UI's text
            img.paste(Image.new("RGB", size, (0, 0, 0)), (0, 0), _scrim_mask(size, False, 0.8))
        return img
    ink: RGB = (30, 24, 40) if light_bg else (250, 248, 240)
    comp = composition(subject)
    accent: RGB = {"action": _hot_accent(comp.hue), "comedy": (230, 40, 110), "drama": (210, 200, 180)}.get(
        tag, hsv(comp.hue + 0.1, 0.45, 1.0))
    if kind == "poster":
        _poster_lettering(img, subject, tag, comp, ink, accent)
        return img
    if light_bg:  # a pale wash under the dark type, left of what the hero shares with the backdrop
        _scrim(img, (0, 0, int(w * 0.6), h), False, False, 0.8, light=True)
    else:  # a scrim on the left for the UI's text
        img.paste(Image.new("RGB", size, (0, 0, 0)), (0, 0), _scrim_mask(size, False, 0.8))
    _brand(img, 60, 48, 26, accent)
    top = _draw_title(img, _title_text(subject, tag), TITLE_STYLE[tag], (60, 120, int(w * 0.55), h - 110), ink,
                      start=104 if tag == "action" else 88, max_lines=2, shadow=0 if light_bg else 3)
    d = ImageDraw.Draw(img)
    d.rectangle((60, top - 26, 150, top - 18), fill=accent)
    d.text((60, h - 80), _meta_line(subject), font=_font("sans", 24), fill=ink if light_bg else (225, 225, 225))
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
