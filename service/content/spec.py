"""What a content build produces: masters, ladder, durations (pure data).

Two fixed specs: ``default_spec()`` (the demo catalogue, about 3 minutes on two
cores) and ``quick_spec()`` (seconds, for tests). Tests may build their own tiny
``BuildSpec`` to exercise the builder's behaviour cheaply.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Rung:
    """One video representation of the ladder."""

    id: str  # representation id, also its folder: "v1080"
    width: int
    height: int
    kbps: int  # target (and declared DASH) bitrate
    preset: str = "superfast"  # x264 preset; the top rungs use a faster one

    @property
    def label(self) -> str:
        return f"{self.height}p  {self.kbps}k"

    @property
    def bandwidth(self) -> int:
        return self.kbps * 1000


@dataclass(frozen=True)
class AudioTrack:
    lang: str  # BCP 47 ("en"); DASH @lang and HLS LANGUAGE
    name: str  # human name for HLS NAME / DASH Label
    freq_hz: float  # the tone
    beeps: int  # short louder blips at the start of every second (1 = one blip, 2 = two)


@dataclass(frozen=True)
class Master:
    """A synthetic programme: a moving test pattern with its own look."""

    media_id: str
    name: str
    source: str  # lavfi video graph producing 1920x1080 yuv420p frames at the build's fps
    accent: str  # drawtext colour of the master's name plate


@dataclass(frozen=True)
class BuildSpec:
    masters: tuple[Master, ...]
    ladder: tuple[Rung, ...]
    duration_s: int
    quick: bool
    fps: int = 24
    segment_s: int = 2
    audio: tuple[AudioTrack, ...] = (
        AudioTrack("en", "English", 440.0, 1),
        AudioTrack("fr", "Français", 660.0, 2),
    )
    subtitles: tuple[str, ...] = ("en", "fr")
    audio_kbps: int = 96
    artwork_variants: int = 4
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.duration_s % self.segment_s:
            raise ValueError("duration must be a whole number of segments")
        if len({r.id for r in self.ladder}) != len(self.ladder):
            raise ValueError("rung ids must be unique")

    @property
    def gop(self) -> int:
        return self.fps * self.segment_s

    def media_fingerprint(self, code_version: str) -> str:
        """Changes whenever anything that shapes the media bytes changes."""
        blob = json.dumps({"code": code_version, "spec": asdict(self)}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    def master_fingerprint(self, master: Master, code_version: str) -> str:
        spec = asdict(self)
        spec.pop("masters")
        blob = json.dumps({"code": code_version, "spec": spec, "master": asdict(master)}, sort_keys=True,
                          ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()


FULL_LADDER: tuple[Rung, ...] = (
    Rung("v144", 256, 144, 200),
    Rung("v240", 426, 240, 400),
    Rung("v360", 640, 360, 800),
    Rung("v480", 854, 480, 1400),
    Rung("v720", 1280, 720, 2800, preset="ultrafast"),
    Rung("v1080", 1920, 1080, 5000, preset="ultrafast"),
)

# Video graphs. Each yields 1920x1080 at {fps}; expensive generators run small and are scaled up.
MASTERS: tuple[Master, ...] = (
    Master("m0", "PRISM", "testsrc2=s=1920x1080:r={fps}", "0xFFD166"),
    Master("m1", "EMBER",
           "gradients=s=480x270:r={fps}:speed=0.015:n=4:c0=0x2b0a3d:c1=0xd7263d:c2=0xf46036:c3=0xffc857:seed=7,"
           "format=yuv420p,scale=1920:1080", "0xFFFFFF"),
    Master("m2", "MEADOW",
           "life=s=240x135:r={fps}:mold=12:ratio=0.25:seed=11:life_color=0x9bf6a3:death_color=0x0b3d2e:"
           "mold_color=0x1f7a4d,format=yuv420p,scale=1920:1080:flags=neighbor", "0xE9FF70"),
    Master("m3", "TIDE",
           "cellauto=s=480x270:r={fps}:rule=30:scroll=1:start_full=1:seed=3,format=rgb24,"
           "lutrgb=r='val*0.15':g='40+val*0.55':b='90+val*0.64',format=yuv420p,"
           "scale=1920:1080:flags=neighbor", "0x7FDBFF"),
)


def default_spec() -> BuildSpec:
    """The demo build: 4 masters x 72 s, the full 6-rung ladder (about 200 CPU-seconds)."""
    return BuildSpec(masters=MASTERS, ladder=FULL_LADDER, duration_s=72, quick=False)


def quick_spec() -> BuildSpec:
    """The test build: 2 masters x 16 s, the same 6-rung ladder (144p..1080p)."""
    fast = tuple(Rung(r.id, r.width, r.height, r.kbps, preset="ultrafast") for r in FULL_LADDER)
    return BuildSpec(masters=MASTERS[:2], ladder=fast, duration_s=16, quick=True)
