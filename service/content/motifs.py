"""The pictures the artwork is made of: one motif family per genre, drawn with Pillow.

Each motif draws into an RGB image, inside a focus box (where the picture's subject goes: the
lettering has the rest), with the title's palette and a seeded random source, so one title
always gets the same picture and two titles of one genre still differ in placement and detail.
"""

from __future__ import annotations

import colorsys
import math
import random
from dataclasses import dataclass
from typing import Callable

from PIL import Image, ImageDraw

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]


def hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, max(0.0, min(s, 1.0)), max(0.0, min(v, 1.0)))
    return int(r * 255), int(g * 255), int(b * 255)


@dataclass(frozen=True)
class Palette:
    hue: float
    sky_top: RGB
    sky_bottom: RGB
    ground: RGB  # darkest: silhouettes, floors
    main: RGB  # the motif's body
    accent: RGB  # one contrasting colour
    light: RGB  # moons, lamps, highlights


# how the palette is built from the title's hue: (accent hue offset, sky saturation, sky brightness)
SCHEMES = {"complement": (0.5, 0.6, 0.55), "analogous": (0.08, 0.7, 0.7), "triad": (0.33, 0.55, 0.6),
           "mono": (0.0, 0.35, 0.45), "split": (0.42, 0.75, 0.8)}


def palette(hue: float, scheme: str, rng: random.Random) -> Palette:
    off, sat, val = SCHEMES[scheme]
    flip = rng.random() < 0.5  # light sky over a dark ground, or night over a lit horizon
    top = hsv(hue, sat, val * (0.35 if flip else 1.0))
    bottom = hsv(hue + 0.05, sat * 0.8, val * (1.0 if flip else 0.45))
    return Palette(hue=hue, sky_top=top, sky_bottom=bottom, ground=hsv(hue + 0.02, 0.5, 0.1),
                   main=hsv(hue - 0.04, min(1.0, sat + 0.2), 0.75), accent=hsv(hue + off, 0.8, 0.95),
                   light=hsv(hue + off / 2, 0.2, 1.0))


def _rand_in(rng: random.Random, box: Box, margin: float = 0.15) -> tuple[int, int]:
    x0, y0, x1, y1 = box
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    return int(rng.uniform(x0 + mx, x1 - mx)), int(rng.uniform(y0 + my, y1 - my))


def _span(box: Box) -> int:
    return min(box[2] - box[0], box[3] - box[1])


def _overlay(img: Image.Image, draw_fn: Callable[[ImageDraw.ImageDraw], None]) -> None:
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw_fn(ImageDraw.Draw(layer))
    img.paste(layer, (0, 0), layer)


def figure(d: ImageDraw.ImageDraw, fx: int, fy: int, fh: int, color: RGB | tuple[int, int, int, int]) -> None:
    """A standing silhouette, feet at (fx, fy), ``fh`` tall."""
    fw = max(fh // 4, 4)
    d.ellipse((fx - fw // 2, fy - fh - fw, fx + fw // 2, fy - fh), fill=color)
    d.rounded_rectangle((fx - fw, fy - fh, fx + fw, fy), radius=max(fw // 2, 1), fill=color)


def stars(img: Image.Image, rng: random.Random, count: int, color: RGB) -> None:
    d = ImageDraw.Draw(img)
    w, h = img.size
    for _ in range(count):
        x, y, r = rng.randrange(w), rng.randrange(int(h * 0.7)), rng.choice((1, 1, 1, 2))
        d.ellipse((x - r, y - r, x + r, y + r), fill=color)


# --- one function per family ---------------------------------------------------------------

def planet(img: Image.Image, rng: random.Random, pal: Palette, box: Box) -> None:
    stars(img, rng, 90, pal.light)
    cx, cy = _rand_in(rng, box)
    r = int(_span(box) * rng.uniform(0.25, 0.42))
    d = ImageDraw.Draw(img)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=pal.main)
    d.chord((cx - r, cy - r, cx + r, cy + r), 100, 280, fill=pal.ground)  # the night side
    tilt = rng.uniform(0.18, 0.35)
    for k in range(3):
        rr = int(r * (1.5 + 0.15 * k))
        d.ellipse((cx - rr, cy - int(rr * tilt), cx + rr, cy + int(rr * tilt)), outline=pal.accent, width=3 - k)


def castle(img: Image.Image, rng: random.Random, pal: Palette, box: Box) -> None:
    w, h = img.size
    d = ImageDraw.Draw(img)
    mx, my = _rand_in(rng, (box[0], box[1], box[2], box[1] + (box[3] - box[1]) // 2))
    r = int(_span(box) * 0.12)
    d.ellipse((mx - r, my - r, mx + r, my + r), fill=pal.light)
    base = int(box[3] - (box[3] - box[1]) * rng.uniform(0.15, 0.3))
    peaks = [(0, h)] + [(int(w * i / 6), base - int(rng.uniform(0.05, 0.3) * h)) for i in range(7)] + [(w, h)]
    d.polygon(peaks, fill=pal.main)
    cx = int(rng.uniform(box[0] + 40, box[2] - 40))
    tw = max(w // 30, 8)
    for k, th in enumerate((0.22, 0.32, 0.26, 0.18)):
        x = cx + (k - 2) * tw * 2
        top = base - int(h * th * 0.7)
        d.rectangle((x, top, x + tw, h), fill=pal.ground)
        d.polygon([(x - tw // 3, top), (x + tw + tw // 3, top), (x + tw // 2, top - tw * 2)], fill=pal.ground)
    d.rectangle((cx - tw * 4, base - int(h * 0.08), cx + tw * 3, h), fill=pal.ground)


def contours(img: Image.Image, rng: random.Random, pal: Palette, box: Box) -> None:
    d = ImageDraw.Draw(img)
    cx, cy = _rand_in(rng, box, 0.3)
    phase = [rng.uniform(0, math.tau) for _ in range(3)]
    for k in range(12, 0, -1):
        r = _span(box) * 0.06 * k
        pts = []
        for i in range(48):
            a = math.tau * i / 48
            wob = 1 + 0.12 * math.sin(3 * a + phase[0]) + 0.08 * math.sin(5 * a + phase[1] + k * 0.3)
            pts.append((cx + math.cos(a) * r * wob * 1.2, cy + math.sin(a) * r * wob))
        d.polygon(pts, fill=pal.main if k % 2 else pal.sky_bottom, outline=pal.light)
    s = int(_span(box) * 0.12)  # a compass star
    for a in range(4):
        ang = a * math.pi / 2 + phase[2] / 8
        tip = (cx + math.cos(ang) * s * 2, cy + math.sin(ang) * s * 2)
        side = (cx + math.cos(ang + 0.5) * s * 0.5, cy + math.sin(ang + 0.5) * s * 0.5)
        d.polygon([(cx, cy), side, tip], fill=pal.accent)


def window(img: Image.Image, rng: random.Random, pal: Palette, box: Box) -> None:
    w, h = img.size
    x0, y0, x1, y1 = box
    ww, wh = int((x1 - x0) * rng.uniform(0.35, 0.55)), int((y1 - y0) * rng.uniform(0.45, 0.7))
    wx, wy = int(rng.uniform(x0, x1 - ww)), int(rng.uniform(y0, y1 - wh))
    floor = min(h, wy + wh + int(h * 0.05))

    def light(d: ImageDraw.ImageDraw) -> None:  # the window's light falling on the floor
        d.polygon([(wx, wy + wh), (wx + ww, wy + wh), (wx + ww * 1.8, h), (wx - ww * 0.4, h)], fill=(*pal.light, 70))

    _overlay(img, light)
    d = ImageDraw.Draw(img)
    d.rectangle((wx, wy, wx + ww, wy + wh), fill=pal.light)
    bars = rng.choice((1, 2, 3))
    for k in range(1, bars + 1):
        d.line((wx + ww * k // (bars + 1), wy, wx + ww * k // (bars + 1), wy + wh), fill=pal.ground, width=5)
    d.line((wx, wy + wh // 2, wx + ww, wy + wh // 2), fill=pal.ground, width=5)
    figure(d, wx + int(ww * rng.uniform(0.2, 0.8)), floor, int(wh * 0.75), pal.ground)


def blinds(img: Image.Image, rng: random.Random, pal: Palette, box: Box) -> None:
    w, h = img.size
    slope = rng.uniform(-0.35, 0.35)
    gap = int(h * rng.uniform(0.035, 0.06))

    def slats(d: ImageDraw.ImageDraw) -> None:
        for y in range(-h, 2 * h, gap):
            d.polygon([(0, y), (w, y + w * slope), (w, y + w * slope + gap // 2), (0, y + gap // 2)],
                      fill=(*pal.light, 90))

    _overlay(img, slats)
    d = ImageDraw.Draw(img)
    cx = int(rng.uniform(box[0] + 30, box[2] - 30))
    fh = int((box[3] - box[1]) * rng.uniform(0.45, 0.7))
    fy = box[3]
    figure(d, cx, fy, fh, pal.ground)
    brim = fh // 5  # a hat
    d.rectangle((cx - brim, fy - fh - fh // 5, cx + brim, fy - fh - fh // 7), fill=pal.ground)
    d.rectangle((0, fy, w, h), fill=pal.ground)


def burst(img: Image.Image, rng: random.Random, pal: Palette, box: Box) -> None:
    w, h = img.size
    cx, cy = _rand_in(rng, box, 0.2)
    rays = rng.randint(10, 18)
    offset = rng.uniform(0, math.tau)
    big = max(w, h) * 1.5

    def draw_rays(d: ImageDraw.ImageDraw) -> None:
        for k in range(rays):
            a = offset + math.tau * k / rays
            da = math.tau / rays * 0.35
            d.polygon([(cx, cy), (cx + math.cos(a - da) * big, cy + math.sin(a - da) * big),
                       (cx + math.cos(a + da) * big, cy + math.sin(a + da) * big)], fill=(*pal.accent, 110))

    _overlay(img, draw_rays)
    d = ImageDraw.Draw(img)
    r = int(_span(box) * rng.uniform(0.12, 0.2))
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=pal.light)
    slant = rng.choice((-1, 1)) * h * 0.5
    for _ in range(rng.randint(2, 4)):
        x = int(rng.uniform(0, w))
        t = int(w * rng.uniform(0.015, 0.05))
        d.polygon([(x, h), (x + t, h), (x + t + slant, 0), (x + slant, 0)], fill=pal.main)


def bokeh(img: Image.Image, rng: random.Random, pal: Palette, box: Box) -> None:
    w, h = img.size

    def circles(d: ImageDraw.ImageDraw) -> None:
        for _ in range(26):
            x, y = rng.randrange(w), rng.randrange(h)
            r = int(min(w, h) * rng.uniform(0.03, 0.12))
            d.ellipse((x - r, y - r, x + r, y + r), fill=(*rng.choice((pal.light, pal.accent, pal.main)), 80))

    _overlay(img, circles)
    d = ImageDraw.Draw(img)
    cx = int(rng.uniform(box[0] + 40, box[2] - 40))
    fh = int((box[3] - box[1]) * rng.uniform(0.5, 0.7))
    figure(d, cx - fh // 7, box[3], fh, pal.ground)
    figure(d, cx + fh // 7, box[3], int(fh * 0.92), pal.ground)
    d.rectangle((0, box[3], w, h), fill=pal.ground)


def popart(img: Image.Image, rng: random.Random, pal: Palette, box: Box) -> None:
    d = ImageDraw.Draw(img)
    span = _span(box)
    for k in range(rng.randint(3, 5)):
        x, y = _rand_in(rng, box, 0.05)
        r = int(span * rng.uniform(0.12, 0.32))
        color = (pal.accent, pal.main, pal.light)[k % 3]
        shape = rng.randrange(3)
        if shape == 0:
            d.ellipse((x - r, y - r, x + r, y + r), fill=color)
        elif shape == 1:
            d.regular_polygon((x, y, r), n_sides=3, rotation=rng.uniform(0, 120), fill=color)
        else:
            d.rounded_rectangle((x - r, y - r // 2, x + r, y + r // 2), radius=r // 3, fill=color)
    for _ in range(24):  # dots
        x, y = _rand_in(rng, box, 0.0)
        r = max(span // 60, 2)
        d.ellipse((x - r, y - r, x + r, y + r), fill=pal.ground)


def balloons(img: Image.Image, rng: random.Random, pal: Palette, box: Box) -> None:
    w, h = img.size
    d = ImageDraw.Draw(img)
    base = box[3] - int((box[3] - box[1]) * 0.12)
    for k in range(3):  # rolling hills
        r = w * rng.uniform(0.5, 0.9)
        cx = w * rng.uniform(0, 1)
        top = base + k * h * 0.04
        d.ellipse((cx - r, top, cx + r, top + r), fill=hsv(pal.hue + 0.3 + 0.04 * k, 0.55, 0.6 - 0.12 * k))
    for _ in range(rng.randint(2, 4)):
        x, y = _rand_in(rng, (box[0], box[1], box[2], base), 0.1)
        r = int(_span(box) * rng.uniform(0.07, 0.15))
        color = rng.choice((pal.accent, pal.main, pal.light))
        d.ellipse((x - r, y - r, x + r, y + int(r * 1.15)), fill=color)
        d.polygon([(x - r * 0.7, y + r * 0.8), (x + r * 0.7, y + r * 0.8), (x, y + r * 1.6)], fill=color)
        d.rectangle((x - r // 5, y + int(r * 1.6), x + r // 5, y + int(r * 1.9)), fill=pal.ground)


def horizon(img: Image.Image, rng: random.Random, pal: Palette, box: Box) -> None:
    w, h = img.size
    d = ImageDraw.Draw(img)
    hy = int(rng.uniform(box[1] + (box[3] - box[1]) * 0.4, box[3] - (box[3] - box[1]) * 0.1))
    cx = int(rng.uniform(box[0], box[2]))
    r = int(_span(box) * rng.uniform(0.15, 0.3))
    d.ellipse((cx - r, hy - r, cx + r, hy + r), fill=pal.light)
    d.rectangle((0, hy, w, h), fill=pal.main)
    for k in range(1, 12):  # the sun's path on the water
        y = hy + int((h - hy) * k / 12)
        half = int(r * (1 - k / 14) * rng.uniform(0.5, 1.0))
        d.rectangle((cx - half, y, cx + half, y + max(2, (h - hy) // 40)), fill=pal.light)
    for _ in range(rng.randint(0, 3)):  # birds
        bx, by = _rand_in(rng, (box[0], box[1], box[2], hy), 0.1)
        s = max(w // 60, 5)
        d.line([(bx - s, by - s // 2), (bx, by), (bx + s, by - s // 2)], fill=pal.ground, width=2)


def forest(img: Image.Image, rng: random.Random, pal: Palette, box: Box) -> None:
    w, h = img.size
    d = ImageDraw.Draw(img)
    mx, my = _rand_in(rng, (box[0], box[1], box[2], box[1] + (box[3] - box[1]) // 2))
    r = int(_span(box) * rng.uniform(0.12, 0.22))
    d.ellipse((mx - r, my - r, mx + r, my + r), fill=hsv(0.0, 0.8, 0.8))
    for layer, shade in ((0, 0.22), (1, 0.06)):
        x = rng.randint(-20, 0)
        while x < w:
            tw = rng.randint(3, 9) + layer * 4
            d.rectangle((x, int(h * rng.uniform(0.0, 0.25)), x + tw, h), fill=hsv(pal.hue, 0.3, shade))
            for _ in range(2):  # bare branches
                by = int(h * rng.uniform(0.25, 0.6))
                side = rng.choice((-1, 1))
                d.line((x + tw // 2, by, x + tw // 2 + side * tw * 4, by - tw * 4), fill=hsv(pal.hue, 0.3, shade),
                       width=max(2, tw // 3))
            x += tw + rng.randint(12, 40) - layer * 6


def target(img: Image.Image, rng: random.Random, pal: Palette, box: Box) -> None:
    w, h = img.size
    cx, cy = _rand_in(rng, box, 0.25)

    def cone(d: ImageDraw.ImageDraw) -> None:  # a searchlight from above
        sx = rng.uniform(0, w)
        d.polygon([(sx - 10, 0), (sx + 10, 0), (cx + _span(box) * 0.45, cy), (cx - _span(box) * 0.45, cy)],
                  fill=(*pal.light, 60))

    _overlay(img, cone)
    d = ImageDraw.Draw(img)
    for k in range(5, 0, -1):
        r = int(_span(box) * 0.07 * k)
        d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=pal.accent, width=3)
    d.line((cx - _span(box) // 2, cy, cx + _span(box) // 2, cy), fill=pal.accent, width=2)
    d.line((cx, cy - _span(box) // 2, cx, cy + _span(box) // 2), fill=pal.accent, width=2)
    figure(d, cx, cy + int(_span(box) * 0.18), int(_span(box) * 0.3), pal.ground)


def keyhole(img: Image.Image, rng: random.Random, pal: Palette, box: Box) -> None:
    w, h = img.size
    d = ImageDraw.Draw(img)
    for k in range(4):  # fog banks
        y = int(h * (0.35 + 0.15 * k + rng.uniform(-0.05, 0.05)))
        d.rectangle((0, y, w, h), fill=hsv(pal.hue, 0.25, 0.2 + 0.06 * k))
    cx, cy = _rand_in(rng, box, 0.3)
    r = int(_span(box) * rng.uniform(0.16, 0.24))
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=pal.light)
    d.polygon([(cx - r * 0.55, cy + r * 0.4), (cx + r * 0.55, cy + r * 0.4), (cx + r * 0.9, cy + r * 2.6),
               (cx - r * 0.9, cy + r * 2.6)], fill=pal.light)
    d.ellipse((cx - r // 3, cy - r // 3, cx + r // 3, cy + r // 3), fill=pal.ground)
    d.polygon([(cx - r // 6, cy), (cx + r // 6, cy), (cx + r // 3, cy + r * 1.4), (cx - r // 3, cy + r * 1.4)],
              fill=pal.ground)


def blobs(img: Image.Image, rng: random.Random, pal: Palette, box: Box) -> None:
    stars(img, rng, 40, pal.light)
    d = ImageDraw.Draw(img)
    for _ in range(rng.randint(3, 5)):
        x, y = _rand_in(rng, box, 0.1)
        r = int(_span(box) * rng.uniform(0.1, 0.22))
        color = hsv(pal.hue + rng.uniform(-0.3, 0.3), 0.6, 1.0)
        d.ellipse((x - r, y - r, x + r, y + r), fill=color)
        e = max(r // 6, 2)  # two eyes: a character
        for ex in (x - r // 3, x + r // 3):
            d.ellipse((ex - e, y - e * 2, ex + e, y), fill=(255, 255, 255))
            d.ellipse((ex - e // 2, y - e * 3 // 2, ex + e // 2, y - e // 2), fill=(20, 20, 30))


Motif = Callable[[Image.Image, random.Random, Palette, Box], None]
GENRE_MOTIFS: dict[str, Motif] = {
    "Sci-Fi": planet, "Fantasy": castle, "Adventure": contours, "Drama": window, "Crime": blinds,
    "Action": burst, "Romance": bokeh, "Comedy": popart, "Family": balloons, "Documentary": horizon,
    "Horror": forest, "Thriller": target, "Mystery": keyhole, "Animation": blobs,
}
