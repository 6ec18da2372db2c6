"""Turn ffmpeg's DASH output into the published layout (DASH + HLS over the same fMP4).

ffmpeg writes flat files (``init-<n>.m4s``, ``seg-<n>-<k>.m4s``) and an MPD. We read
the facts from that MPD (codecs, timescales, segment timelines), move every
representation into its own folder, and write both manifests ourselves so they are
deterministic and complete: one audio AdaptationSet per language, a WebVTT text
AdaptationSet per subtitle language; an HLS multivariant playlist with
``EXT-X-MEDIA`` audio and subtitle renditions and VOD media playlists with
``EXT-X-MAP``. Every URL is relative. The pure parts (``parse_ffmpeg_mpd``,
``render_mpd``, ``render_hls_*``, ``render_vtt``) take and return strings.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import defusedxml.ElementTree as DET

from marquee.errors import MediaError
from service.content.spec import BuildSpec

NS = "{urn:mpeg:dash:schema:mpd:2011}"
INIT_NAME = "init.mp4"
SEG_TEMPLATE = "seg-$Number$.m4s"

@dataclass(frozen=True)
class Track:
    """One representation as ffmpeg wrote it, renamed to its published id."""

    ffmpeg_id: str
    id: str
    kind: str  # "video" | "audio"
    codecs: str
    bandwidth: int
    timescale: int
    durations: tuple[int, ...]  # segment durations in timescale units, segment 1 first
    width: int = 0
    height: int = 0
    sar: str = "1:1"
    lang: str = ""
    name: str = ""
    sample_rate: int = 0
    channels: int = 2

    @property
    def seconds(self) -> tuple[float, ...]:
        return tuple(d / self.timescale for d in self.durations)

def parse_ffmpeg_mpd(text: str, spec: BuildSpec) -> list[Track]:
    """The representations of ffmpeg's MPD, in ladder then audio order."""
    try:
        root = DET.fromstring(text)
    except Exception as exc:  # defusedxml raises several types
        raise MediaError(f"ffmpeg wrote an unreadable MPD: {exc}") from exc
    reps = root.findall(f"./{NS}Period/{NS}AdaptationSet/{NS}Representation")
    videos = [r for r in reps if r.get("mimeType", "").startswith("video/")]
    audios = [r for r in reps if r.get("mimeType", "").startswith("audio/")]
    if len(videos) != len(spec.ladder) or len(audios) != len(spec.audio):
        raise MediaError(f"ffmpeg wrote {len(videos)} video and {len(audios)} audio representations, "
                         f"expected {len(spec.ladder)} and {len(spec.audio)}")
    tracks: list[Track] = []
    for rep, rung in zip(videos, spec.ladder):
        tracks.append(Track(ffmpeg_id=rep.get("id", ""), id=rung.id, kind="video", codecs=rep.get("codecs", ""),
                            bandwidth=rung.bandwidth, timescale=_timescale(rep), durations=_timeline(rep),
                            width=int(rep.get("width", rung.width)), height=int(rep.get("height", rung.height)),
                            sar=rep.get("sar", "1:1")))
    for rep, audio in zip(audios, spec.audio):
        chan = rep.find(f"{NS}AudioChannelConfiguration")
        tracks.append(Track(ffmpeg_id=rep.get("id", ""), id=f"a-{audio.lang}", kind="audio",
                            codecs=rep.get("codecs", "mp4a.40.2"), bandwidth=int(rep.get("bandwidth", "0")),
                            timescale=_timescale(rep), durations=_timeline(rep), lang=audio.lang, name=audio.name,
                            sample_rate=int(rep.get("audioSamplingRate", "48000")),
                            channels=int(chan.get("value", "2")) if chan is not None else 2))
    return tracks

def _template(rep: object) -> object:
    tpl = rep.find(f"{NS}SegmentTemplate")  # type: ignore[attr-defined]
    if tpl is None:
        raise MediaError("ffmpeg's MPD has a representation without SegmentTemplate")
    return tpl

def _timescale(rep: object) -> int:
    return int(_template(rep).get("timescale", "1"))  # type: ignore[attr-defined]

def _timeline(rep: object) -> tuple[int, ...]:
    out: list[int] = []
    for s in _template(rep).findall(f"{NS}SegmentTimeline/{NS}S"):  # type: ignore[attr-defined]
        out += [int(s.get("d"))] * (int(s.get("r", "0")) + 1)
    if not out:
        raise MediaError("ffmpeg's MPD has an empty SegmentTimeline")
    return tuple(out)

# --- DASH --------------------------------------------------------------------------------

def _timeline_xml(durations: tuple[int, ...], indent: str) -> str:
    runs: list[tuple[int, int]] = []
    for d in durations:
        if runs and runs[-1][0] == d:
            runs[-1] = (d, runs[-1][1] + 1)
        else:
            runs.append((d, 1))
    lines, t = [], 0
    for i, (d, n) in enumerate(runs):
        attrs = (f't="{t}" ' if i == 0 else "") + f'd="{d}"' + (f' r="{n - 1}"' if n > 1 else "")
        lines.append(f"{indent}<S {attrs}/>")
        t += d * n
    return "\n".join(lines)

def _segment_template(track: Track, indent: str) -> str:
    return (f'{indent}<SegmentTemplate timescale="{track.timescale}" initialization="$RepresentationID$/{INIT_NAME}" '
            f'media="$RepresentationID$/{SEG_TEMPLATE}" startNumber="1">\n'
            f"{indent}  <SegmentTimeline>\n{_timeline_xml(track.durations, indent + '    ')}\n"
            f"{indent}  </SegmentTimeline>\n{indent}</SegmentTemplate>")

def _iso_duration(seconds: float) -> str:
    return f"PT{seconds:.3f}S"

def render_mpd(tracks: list[Track], spec: BuildSpec) -> str:
    videos = [t for t in tracks if t.kind == "video"]
    audios = [t for t in tracks if t.kind == "audio"]
    duration = float(spec.duration_s)
    top = max(videos, key=lambda t: t.height)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" '
        f'type="static" mediaPresentationDuration="{_iso_duration(duration)}" '
        f'maxSegmentDuration="{_iso_duration(max(max(t.seconds) for t in tracks))}" '
        f'minBufferTime="{_iso_duration(2.0 * spec.segment_s)}">',
        '  <Period id="0" start="PT0S">',
        '    <AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true" '
        f'startWithSAP="1" maxWidth="{top.width}" maxHeight="{top.height}" frameRate="{spec.fps}" par="16:9">',
    ]
    for v in videos:
        out.append(f'      <Representation id="{v.id}" codecs="{v.codecs}" bandwidth="{v.bandwidth}" '
                   f'width="{v.width}" height="{v.height}" sar="{v.sar}">')
        out.append(_segment_template(v, "        "))
        out.append("      </Representation>")
    out.append("    </AdaptationSet>")
    for i, a in enumerate(audios):
        role = "main" if i == 0 else "dub"
        out += [
            f'    <AdaptationSet id="{1 + i}" contentType="audio" mimeType="audio/mp4" lang="{a.lang}" '
            'segmentAlignment="true" startWithSAP="1">',
            f'      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="{role}"/>',
            f'      <Representation id="{a.id}" codecs="{a.codecs}" bandwidth="{a.bandwidth}" '
            f'audioSamplingRate="{a.sample_rate}">',
            '        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" '
            f'value="{a.channels}"/>',
            _segment_template(a, "        "),
            "      </Representation>",
            "    </AdaptationSet>",
        ]
    for j, lang in enumerate(spec.subtitles):
        out += [
            f'    <AdaptationSet id="{1 + len(audios) + j}" contentType="text" mimeType="text/vtt" lang="{lang}">',
            '      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle"/>',
            f'      <Representation id="s-{lang}" bandwidth="256">',
            f"        <BaseURL>subs/{lang}.vtt</BaseURL>",
            "      </Representation>",
            "    </AdaptationSet>",
        ]
    out += ["  </Period>", "</MPD>", ""]
    return "\n".join(out)

# --- HLS ---------------------------------------------------------------------------------

def render_hls_media(durations_s: tuple[float, ...], *, init: str | None, names: list[str]) -> str:
    target = max(int(math.floor(d + 0.5)) for d in durations_s)
    out = ["#EXTM3U", "#EXT-X-VERSION:7", f"#EXT-X-TARGETDURATION:{max(target, 1)}", "#EXT-X-MEDIA-SEQUENCE:1",
           "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if init:
        out.append(f'#EXT-X-MAP:URI="{init}"')
    for d, name in zip(durations_s, names):
        out += [f"#EXTINF:{d:.6f},", name]
    out += ["#EXT-X-ENDLIST", ""]
    return "\n".join(out)

def render_hls_master(tracks: list[Track], spec: BuildSpec, peaks: dict[str, int], averages: dict[str, int]) -> str:
    videos = [t for t in tracks if t.kind == "video"]
    audios = [t for t in tracks if t.kind == "audio"]
    out = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for i, a in enumerate(audios):
        out.append(f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",LANGUAGE="{a.lang}",NAME="{a.name}",'
                   f'DEFAULT={"YES" if i == 0 else "NO"},AUTOSELECT=YES,CHANNELS="{a.channels}",'
                   f'URI="{a.id}/playlist.m3u8"')
    for lang in spec.subtitles:
        name = next((a.name for a in spec.audio if a.lang == lang), lang)
        out.append(f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="{lang}",NAME="{name}",'
                   f'DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI="subs/{lang}.m3u8"')
    audio_peak = max((peaks[a.id] for a in audios), default=0)
    audio_avg = max((averages[a.id] for a in audios), default=0)
    audio_codec = audios[0].codecs if audios else ""
    subs = ',SUBTITLES="subs"' if spec.subtitles else ""
    for v in videos:
        codecs = ",".join(c for c in (v.codecs, audio_codec) if c)
        out.append(f"#EXT-X-STREAM-INF:BANDWIDTH={peaks[v.id] + audio_peak},"
                   f"AVERAGE-BANDWIDTH={averages[v.id] + audio_avg},RESOLUTION={v.width}x{v.height},"
                   f'FRAME-RATE={spec.fps:.3f},CODECS="{codecs}",AUDIO="aud"{subs}')
        out.append(f"{v.id}/playlist.m3u8")
    out.append("")
    return "\n".join(out)

# --- WebVTT ------------------------------------------------------------------------------

_CUE_TEXT = {
    "en": ("{name}: subtitle {n}", "English subtitles, {clock} into the programme"),
    "fr": ("{name} : sous-titre {n}", "Sous-titres français, {clock} du programme"),
    "de": ("{name}: Untertitel {n}", "Deutsche Untertitel, {clock} im Programm"),
}

def _vtt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"

def render_vtt(lang: str, master_name: str, duration_s: int, every_s: int = 4, show_s: float = 3.0) -> str:
    first, second = _CUE_TEXT.get(lang, _CUE_TEXT["en"])
    out = ["WEBVTT", ""]
    for n, start in enumerate(range(0, duration_s, every_s), start=1):
        end = min(start + show_s, duration_s)
        clock = f"{start // 60}:{start % 60:02d}"
        out += [str(n), f"{_vtt_time(start)} --> {_vtt_time(end)}",
                escape(first.format(name=master_name.title(), n=n)), escape(second.format(clock=clock)), ""]
    return "\n".join(out)

# --- Publishing (I/O) --------------------------------------------------------------------

def publish(work: Path, dest: Path, spec: BuildSpec, master_name: str, mpd_name: str) -> dict[str, object]:
    """Move ffmpeg's files from ``work`` into ``dest`` and write the manifests; returns build.json facts."""
    tracks = parse_ffmpeg_mpd((work / mpd_name).read_text(encoding="utf-8"), spec)
    dest.mkdir(parents=True, exist_ok=True)
    peaks: dict[str, int] = {}
    averages: dict[str, int] = {}
    for track in tracks:
        folder = dest / track.id
        folder.mkdir(exist_ok=True)
        os.replace(work / f"init-{track.ffmpeg_id}.m4s", folder / INIT_NAME)
        names: list[str] = []
        rates: list[float] = []
        total = 0
        for k, seconds in enumerate(track.seconds, start=1):
            name = SEG_TEMPLATE.replace("$Number$", str(k))
            src = work / f"seg-{track.ffmpeg_id}-{k}.m4s"
            if not src.is_file():
                raise MediaError(f"ffmpeg did not write {src.name}")
            size = src.stat().st_size
            os.replace(src, folder / name)
            names.append(name)
            rates.append(size * 8 / seconds)
            total += size
        peaks[track.id] = int(max(rates))
        averages[track.id] = int(total * 8 / sum(track.seconds))
        (folder / "playlist.m3u8").write_text(render_hls_media(track.seconds, init=INIT_NAME, names=names),
                                              encoding="utf-8")
    subs = dest / "subs"
    subs.mkdir(exist_ok=True)
    for lang in spec.subtitles:
        (subs / f"{lang}.vtt").write_text(render_vtt(lang, master_name, spec.duration_s), encoding="utf-8")
        (subs / f"{lang}.m3u8").write_text(
            render_hls_media((float(spec.duration_s),), init=None, names=[f"{lang}.vtt"]), encoding="utf-8")
    (dest / "manifest.mpd").write_text(render_mpd(tracks, spec), encoding="utf-8")
    (dest / "master.m3u8").write_text(render_hls_master(tracks, spec, peaks, averages), encoding="utf-8")
    videos = [t for t in tracks if t.kind == "video"]
    return {
        "duration_s": spec.duration_s,
        "segments": len(videos[0].durations),
        "ladder": [{"id": t.id, "width": t.width, "height": t.height, "bandwidth": t.bandwidth,
                    "average_bandwidth": averages[t.id], "peak_bandwidth": peaks[t.id], "codecs": t.codecs}
                   for t in videos],
        "audio": [a.lang for a in spec.audio],
        "subtitles": list(spec.subtitles),
        "dash": "manifest.mpd",
        "hls": "master.m3u8",
    }
