"""What to download of an HLS title (pure; the media playlists come through ``get``).

The multivariant playlist is rewritten to the chosen variant, the kept audio renditions
(the first one made DEFAULT) and the kept subtitle renditions; the media playlists of
those are stored as they are (their references are relative, so the stored tree resolves
the same way under the offline origin). Refused, with the reason: live playlists,
encrypted ones (EXT-X-KEY / EXT-X-SESSION-KEY: we would store someone else's ciphertext
without its key) and absolute or escaping references. Byte ranges (EXT-X-BYTERANGE, EXT-X-MAP
BYTERANGE) become one stored file per range and the playlist is rewritten to list those
(``downloads.plan_ranges.split_hls_ranges``).
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

from downloads.plan import PlannedFile, Plan, choose_rung, safe_relpath
from downloads.plan_ranges import Piece, split_hls_ranges
from marquee.errors import ManifestError
from player.manifest._common import directory_of, relativize
from player.manifest.hls import HlsMultivariant, HlsRendition, HlsVariant, decode_text, parse_hls_multivariant
from player.manifest.hls_build import build_hls_presentation
from player.manifest.model import Presentation

AUDIO_EST_BPS = 128_000
_DEFAULT = re.compile(r"(?<=[:,])DEFAULT=(YES|NO)")


def _lang(r: HlsRendition) -> str:
    return (r.language or "und").lower()


def _drop_attr(line: str, name: str) -> str:
    out = re.sub(rf'(?<=[:,]){name}=("[^"]*"|[^,]*),?', "", line)
    return out[:-1] if out.endswith(",") else out


def _set_default(line: str, default: bool) -> str:
    value = "DEFAULT=YES" if default else "DEFAULT=NO"
    return _DEFAULT.sub(value, line) if _DEFAULT.search(line) else f"{line},{value}"


def choose_variant(mv: HlsMultivariant, quality: str) -> HlsVariant:
    variants = [v for v in mv.primary_variants() if not v.audio_only] or list(mv.primary_variants())
    ladder = sorted(variants, key=lambda v: (v.bandwidth, v.height or 0))
    return choose_rung(ladder, quality)


def keep_renditions(mv: HlsMultivariant, variant: HlsVariant, audio: Sequence[str],
                    subtitles: Sequence[str]) -> tuple[list[HlsRendition], list[HlsRendition]]:
    """The audio renditions of the variant's group in the wanted languages (else the default
    one, else the first), one per language; and the wanted subtitle renditions."""
    wanted_audio = [a.lower() for a in audio]
    wanted_subs = {s.lower() for s in subtitles}
    group = [r for r in mv.renditions if r.type == "AUDIO" and r.group_id == variant.audio_group]
    keep_audio = sorted((r for r in group if _lang(r) in wanted_audio), key=lambda r: wanted_audio.index(_lang(r)))
    if not keep_audio and group:
        keep_audio = [next((r for r in group if r.default), group[0])]
    keep_audio = list({_lang(r): r for r in reversed(keep_audio)}.values())[::-1]
    subs = [r for r in mv.renditions if r.type == "SUBTITLES" and r.group_id == variant.subtitle_group
            and ("all" in wanted_subs or _lang(r) in wanted_subs)]
    return keep_audio, list({_lang(r): r for r in reversed(subs)}.values())[::-1]


def rewrite_multivariant(text: str, variant: HlsVariant, audio: list[HlsRendition],
                         subs: list[HlsRendition]) -> str:
    keep_media = {r.line for r in audio + subs}
    first_audio = audio[0].line if audio else None
    out: list[str] = []
    skip_uri = False
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        tag = line.split(":", 1)[0]
        if not line.startswith("#"):
            if not skip_uri:
                out.append(line)
            skip_uri = False
            continue
        if tag == "#EXT-X-STREAM-INF":
            skip_uri = n != variant.line
            if skip_uri:
                continue
            line = _drop_attr(line, "VIDEO")
            if not subs:
                line = _drop_attr(line, "SUBTITLES")
            if not audio:
                line = _drop_attr(line, "AUDIO")
        elif tag == "#EXT-X-MEDIA":
            kind = re.search(r"(?<=[:,])TYPE=([A-Z-]+)", line)
            if kind and kind.group(1) == "CLOSED-CAPTIONS":
                pass  # carried in the video itself
            elif n not in keep_media:
                continue
            elif kind and kind.group(1) == "AUDIO":
                line = _set_default(line, n == first_audio)
        elif tag in ("#EXT-X-I-FRAME-STREAM-INF", "#EXT-X-CONTENT-STEERING"):
            continue  # trick play and steering make no sense offline
        elif tag == "#EXT-X-SESSION-KEY":
            raise ManifestError("encrypted HLS (EXT-X-SESSION-KEY) cannot be downloaded",
                                user_message="This title's HLS stream is encrypted: download the DASH version.")
        out.append(line)
    return "\n".join(out) + "\n"


def plan_download_hls(master: bytes, master_url: str, get: Callable[[str], bytes], *, quality: str,
                      audio: Sequence[str], subtitles: Sequence[str]) -> Plan:
    """``get(url) -> bytes`` fetches a media playlist (only those of the kept renditions)."""
    mv = parse_hls_multivariant(master, master_url)
    variant = choose_variant(mv, quality)
    keep_audio, keep_subs = keep_renditions(mv, variant, audio, subtitles)
    text = rewrite_multivariant(master.decode("utf-8-sig"), variant, keep_audio, keep_subs)
    kept = parse_hls_multivariant(text, master_url)
    playlists = {url: get(url) for url in kept.media_playlist_urls}
    root = directory_of(master_url)
    pieces: list[Piece] = []
    for url, data in playlists.items():
        rewritten, found = split_hls_ranges(decode_text(data, "HLS media playlist"), url, root)
        if found:
            playlists[url] = rewritten.encode("utf-8")
            pieces.extend(found)
    pres = build_hls_presentation(kept, playlists)
    manifest = safe_relpath(master_url[len(root):].split("?", 1)[0] or "master.m3u8")
    stored: dict[str, bytes] = {manifest: text.encode("utf-8")}
    for url, data in playlists.items():
        stored[safe_relpath(relativize(root, url))] = data
    files = {p: PlannedFile(p, "manifest" if p == manifest else "playlist", len(b)) for p, b in stored.items()}
    for piece in pieces:
        planned = PlannedFile.of_piece(piece)
        if planned.path in files:
            raise ManifestError(f"cannot download: the stored name {planned.path!r} is already used in this title")
        files[planned.path] = planned
    _add_media(pres, files, variant.bandwidth)
    duration = float(pres.duration_s or 0.0)
    return Plan(stored[manifest], variant.stable_id or f"{variant.height or 0}p", variant.height or 0, variant.bandwidth,
                tuple(dict.fromkeys(_lang(r) for r in keep_audio)), tuple(_lang(r) for r in keep_subs),
                tuple(files.values()), duration, manifest_path=manifest, stored=tuple(stored.items()))


def _add_media(pres: Presentation, files: dict[str, PlannedFile], video_bps: int) -> None:
    if pres.is_live:
        raise ManifestError("only on-demand HLS titles can be downloaded (this playlist is live)")
    for track in pres.periods[0].tracks:
        for rep in track.representations:
            if rep.encrypted:
                raise ManifestError("encrypted HLS (EXT-X-KEY) cannot be downloaded",
                                    user_message="This title's HLS stream is encrypted: download the DASH version.")
            bps = video_bps if track.kind == "video" else rep.bandwidth or AUDIO_EST_BPS
            refs = ([rep.init] if rep.init is not None else []) + list(rep.segments)
            for seg in refs:
                if seg.byte_range is not None:
                    raise ManifestError("HLS byte-range segments (EXT-X-BYTERANGE) cannot be downloaded yet",
                                        user_message="This title's HLS stream uses byte ranges, which downloads do "
                                                     "not support yet: download the DASH version.")
                path = safe_relpath(seg.url)
                if seg is rep.init:
                    files.setdefault(path, PlannedFile(path, "init", 4096))
                elif track.kind == "text":
                    files.setdefault(path, PlannedFile(path, "text", 64 * 1024))
                else:
                    files.setdefault(path, PlannedFile(path, "media", max(1024, int(bps * seg.duration_s / 8))))
