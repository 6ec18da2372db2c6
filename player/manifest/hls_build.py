"""Assembling an HLS `Presentation` from a multivariant playlist and its media playlists.

Applies the URL rule: references are chained from the multivariant playlist
through the media playlist and expressed relative to the primary root
candidate; references that are absolute in the playlists stay absolute.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from marquee.errors import ManifestError
from player.manifest._common import directory_of, fail, is_absolute, join, relativize
from player.manifest.hls import HlsMediaPlaylist, HlsMultivariant, HlsRendition, boundary, parse_hls_media
from player.manifest.model import BaseUrl, Period, Presentation, Representation, Track, TrackKind


def build_hls_presentation(
    multivariant: HlsMultivariant,
    media: Mapping[str, str | bytes],
    final_urls: Mapping[str, str] | None = None,
) -> Presentation:
    """Assemble the Presentation from a multivariant playlist and its media playlists' text.

    `media` maps each of `multivariant.media_playlist_urls` to its text;
    `final_urls` optionally maps one to the URL it was redirected to (segment
    references are then resolved against the redirect target).
    """
    return boundary("HLS", lambda: _build(multivariant, media, final_urls or {}))


def _build(mv: HlsMultivariant, media: Mapping[str, str | bytes], final_urls: Mapping[str, str]) -> Presentation:
    root = mv.base_urls[0].url
    playlists: dict[str, HlsMediaPlaylist] = {}
    for u in mv.media_playlist_urls:
        if u not in media:
            fail(f"HLS: media playlist {u} was not provided")
        try:
            playlists[u] = parse_hls_media(media[u], final_urls.get(u, u))
        except ManifestError as exc:
            raise ManifestError(f"{u}: {exc.message}") from exc
    refs = _References(root, mv.url, final_urls)
    notes = list(mv.notes)
    variants = mv.primary_variants()
    video = [v for v in variants if not v.audio_only] or list(variants)
    if len(video) != len(variants):
        notes.append(f"{len(variants) - len(video)} audio-only variant(s) left out of the video ladder")
    reps = []
    for i, v in enumerate(video):
        reps.append(
            _representation(
                playlists[v.url],
                refs.parent(v.url, v.ref),
                refs,
                id=v.stable_id or f"v{i}",
                bandwidth=v.bandwidth,
                codecs=v.codecs,
                width=v.width,
                height=v.height,
                frame_rate=v.frame_rate,
                average_bandwidth=v.average_bandwidth,
                audio_group=v.audio_group,
                subtitle_group=v.subtitle_group,
            )
        )
    kind: TrackKind = "audio" if all(v.audio_only for v in video) else "video"
    tracks = [Track(id="main", kind=kind, representations=tuple(reps))]
    tracks += _rendition_tracks(mv, playlists, refs)
    lists = [playlists[u] for u in mv.media_playlist_urls]
    is_live = any(p.is_live for p in lists)
    main_lists = [playlists[v.url] for v in video]
    duration = None if is_live else max((p.duration_s for p in main_lists), default=0.0)
    target = max((p.target_duration_s or 0.0 for p in lists), default=0.0) or None
    return Presentation(
        kind="hls",
        url=mv.url,
        is_live=is_live,
        duration_s=duration,
        periods=(Period(id="0", start_s=0.0, duration_s=duration, tracks=(*tracks,)),),
        base_urls=mv.base_urls,
        steering=mv.steering,
        update_period_s=target if is_live else None,
        notes=tuple(notes),
    )


class _References:
    """Applies the URL rule to HLS references: the chain of URIs below the root."""

    def __init__(self, root: str, manifest_url: str, final_urls: Mapping[str, str]) -> None:
        self.root = root
        self.manifest_dir = directory_of(manifest_url)
        self.final_urls = final_urls

    def parent(self, url: str, ref: str) -> str:
        """The reference of a media playlist below the root, or its absolute URL."""
        if url in self.final_urls:
            return self.final_urls[url]
        if self.root == self.manifest_dir and not is_absolute(ref):
            return ref.strip()
        return url

    def segment(self, parent: str, raw: str) -> str:
        if is_absolute(raw):
            return raw.strip()  # absolute in the manifest: stays absolute
        chain = join(parent, raw)
        return relativize(self.root, chain) if is_absolute(chain) else chain


def _representation(pl: HlsMediaPlaylist, parent: str, refs: _References, **fields: Any) -> Representation:
    raws = pl.refs or tuple(s.url for s in pl.segments)
    segments = tuple(replace(s, url=refs.segment(parent, raw)) for s, raw in zip(pl.segments, raws))
    init = None
    if pl.init is not None:
        init = replace(pl.init, url=refs.segment(parent, pl.init_ref or pl.init.url))
    mime = "video/mp4" if pl.init is not None else "video/mp2t"
    if fields.get("bandwidth") in (None, 0):
        fields["bandwidth"] = _measured_bandwidth(pl)
    return Representation(
        mime=fields.pop("mime", None) or mime,
        init=init,
        segments=segments,
        encrypted=pl.encrypted,
        protection=pl.protection,
        **fields,
    )


def _measured_bandwidth(pl: HlsMediaPlaylist) -> int:
    """Bits per second from byte ranges when every segment has one, else 0 (unknown)."""
    if not pl.segments or any(s.size_bytes is None for s in pl.segments) or pl.duration_s <= 0:
        return 0
    return int(sum(s.size_bytes or 0 for s in pl.segments) * 8 / pl.duration_s)


def _rendition_tracks(mv: HlsMultivariant, playlists: dict[str, HlsMediaPlaylist], refs: _References) -> list[Track]:
    """One Track per (type, language, name); one Representation per rendition group."""
    grouped: dict[tuple[str, str | None, str], list[HlsRendition]] = {}
    for r in mv.used_renditions():
        grouped.setdefault((r.type, r.language, r.name), []).append(r)
    tracks = []
    for (rtype, language, name), members in grouped.items():
        kind: TrackKind = "audio" if rtype == "AUDIO" else "text"
        reps = []
        for r in members:
            assert r.url is not None and r.ref is not None
            pl = playlists[r.url]
            if kind == "audio":
                mime = "audio/mp4" if pl.init is not None else "audio/aac" if r.url.endswith(".aac") else "video/mp2t"
            else:
                mime = "text/vtt" if pl.init is None else "application/mp4"
            reps.append(_representation(pl, refs.parent(r.url, r.ref), refs, id=r.group_id, bandwidth=0, mime=mime))
        tracks.append(
            Track(
                id=f"{kind}:{language or 'und'}:{name}",
                kind=kind,
                representations=tuple(reps),
                language=language,
                label=name,
                mime=reps[0].mime,
                default=any(r.default for r in members),
            )
        )
    return tracks


def media_only_presentation(playlist: HlsMediaPlaylist) -> Presentation:
    """A Presentation for a media playlist opened directly (no multivariant around it)."""
    root = directory_of(playlist.url)
    rep = _representation(playlist, "", _References(root, playlist.url, {}), id="v0", bandwidth=0)
    duration = None if playlist.is_live else playlist.duration_s
    return Presentation(
        kind="hls",
        url=playlist.url,
        is_live=playlist.is_live,
        duration_s=duration,
        periods=(Period(id="0", start_s=0.0, duration_s=duration, tracks=(Track(id="main", kind="video", representations=(rep,)),)),),
        base_urls=(BaseUrl(url=root),),
        update_period_s=playlist.target_duration_s if playlist.is_live else None,
    )
