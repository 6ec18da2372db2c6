"""The ffmpeg command that renders one master to every rung of the ladder (pure).

One ffmpeg run per master: the pattern is generated once at 1080p, split, scaled per
rung, stamped with the rung label and a running timecode, and encoded with x264
(closed GOPs of exactly one segment, no B-frames, scene-cut off, forced keyframes on
segment boundaries, so every segment of every rung starts with an IDR frame at the
same time). Two tone tracks (one per language) are encoded to AAC. ffmpeg's DASH
muxer cuts the fragments; ``package`` rewrites the manifests.
"""

from __future__ import annotations

from pathlib import Path

from service.content.spec import BuildSpec, Master

WORK_MPD = "ffmpeg.mpd"


def escape_option(value: str) -> str:
    """Escape a filter option value, then the result for the filtergraph (ffmpeg's two levels)."""
    level1 = "".join("\\" + c if c in "\\':" else c for c in value)
    return "".join("\\" + c if c in "\\'[],;" else c for c in level1)


def tone_expression(freq_hz: float, beeps: int) -> str:
    """A quiet tone with ``beeps`` louder blips at the start of every second (sync marks)."""
    marks = "+".join(f"between(mod(t,1),{0.16 * k:.2f},{0.16 * k + 0.08:.2f})" for k in range(beeps))
    return f"0.22*sin(2*PI*{freq_hz:g}*t)*(0.3+0.7*min(1,{marks}))"


def _text(font: Path, text: str | None, size: int, x: str, y: str, color: str = "white",
          timecode_rate: int | None = None) -> str:
    opts = [f"fontfile={escape_option(str(font))}", f"fontsize={size}", f"fontcolor={color}",
            "box=1", "boxcolor=black@0.55", f"boxborderw={max(size // 4, 2)}", f"x={x}", f"y={y}"]
    if timecode_rate is not None:
        opts += [f"timecode={escape_option('00:00:00:00')}", f"rate={timecode_rate}"]
    else:
        opts.append(f"text={escape_option(text or '')}")
    return "drawtext=" + ":".join(opts)


def filter_graph(spec: BuildSpec, master: Master, font: Path, mono: Path) -> str:
    n = len(spec.ladder)
    source = master.source.format(fps=spec.fps)
    plate = _text(font, f"MARQUEE  {master.name}", 54, "w-tw-60", "50", color=master.accent)
    chains = [f"{source},trim=duration={spec.duration_s},setpts=PTS-STARTPTS,{plate},split={n}"
              + "".join(f"[s{i}]" for i in range(n))]
    for i, rung in enumerate(spec.ladder):
        size = max(rung.height // 13, 10)
        label = _text(font, rung.label, size, "w*0.04", "h*0.05")
        clock = _text(mono, None, size, "w*0.04", "h-th-h*0.06", timecode_rate=spec.fps)
        chains.append(f"[s{i}]scale={rung.width}:{rung.height}:flags=bicubic,{label},{clock}[v{i}]")
    return ";".join(chains)


def ffmpeg_args(spec: BuildSpec, master: Master, font: Path, mono: Path) -> list[str]:
    """Arguments (after the binary) that write ``WORK_MPD`` and its fragments into the cwd."""
    args: list[str] = []
    for track in spec.audio:
        expr = escape_option(tone_expression(track.freq_hz, track.beeps))
        args += ["-f", "lavfi", "-i", f"aevalsrc=exprs={expr}:s=48000:d={spec.duration_s}"]
    args += ["-filter_complex", filter_graph(spec, master, font, mono)]
    gop = spec.gop
    for i, rung in enumerate(spec.ladder):
        args += ["-map", f"[v{i}]", f"-c:v:{i}", "libx264", f"-preset:v:{i}", rung.preset,
                 f"-b:v:{i}", f"{rung.kbps}k", f"-maxrate:v:{i}", f"{rung.kbps * 3 // 2}k",
                 f"-bufsize:v:{i}", f"{rung.kbps * 2}k"]
    for a, track in enumerate(spec.audio):
        args += ["-map", f"{a}:a", f"-c:a:{a}", "aac", f"-b:a:{a}", f"{spec.audio_kbps}k", f"-ac:a:{a}", "2",
                 f"-metadata:s:a:{a}", f"language={track.lang}"]
    args += [
        "-pix_fmt", "yuv420p", "-profile:v", "high", "-r", str(spec.fps),
        "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-bf", "0", "-flags", "+cgop",
        "-force_key_frames", f"expr:gte(t,n_forced*{spec.segment_s})",
        "-x264-params", "open-gop=0:scenecut=0",
        "-f", "dash", "-seg_duration", str(spec.segment_s), "-use_template", "1", "-use_timeline", "1",
        "-adaptation_sets", "id=0,streams=v id=1,streams=a",
        "-init_seg_name", "init-$RepresentationID$.m4s",
        "-media_seg_name", "seg-$RepresentationID$-$Number$.m4s",
        WORK_MPD,
    ]
    return args
