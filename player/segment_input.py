"""Reading one fetched segment: validate its boxes (or TS packets), demux it with PyAV,
and bring its packets into the form the output muxer takes: for Matroska (the engine's
stream), length-prefixed H.264/HEVC with the rung's parameter sets in-band on its first
keyframe, everything else as it came; for MPEG-TS, Annex B video and ADTS AAC.

Errors are ``SegmentError`` (recoverable: these bytes are damaged, another OCA's copy
may not be) or ``MediaError`` (the codec or container cannot be played at all).
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import Any, Iterable

import av
import av.bitstream

from marquee.errors import MediaError, Severity
from player.decode_health import codec_name
from player.nal import annexb_to_length_prefixed, nal_length_size

_ANNEXB_FILTERS = {"h264": "h264_mp4toannexb", "hevc": "hevc_mp4toannexb"}
_VIDEO_AS_IS = {"mpeg2video"}
_AUDIO_AS_IS = {"ac3", "eac3", "mp3", "mp2"}
# What Matroska carries for mpv (names of FFmpeg's codecs, not of its decoders).
MKV_VIDEO = {"h264", "hevc", "av1", "vp9", "vp8", "mpeg2video"}
MKV_AUDIO = {"aac", "opus", "ac3", "eac3", "flac", "mp3", "mp2", "vorbis"}
_CODEC_OF_DECODER = {"libdav1d": "av1", "libaom-av1": "av1", "libvpx-vp9": "vp9", "libvpx": "vp8",
                     "libopus": "opus", "ac3_fixed": "ac3", "aac_fixed": "aac", "mp3float": "mp3"}


class SegmentError(MediaError):
    """This segment's bytes cannot be remuxed (corrupt, truncated, empty).

    Recoverable: the engine fetches the same segment from another OCA; the stream
    written so far is intact.
    """

    severity = Severity.RECOVERABLE


@dataclass(frozen=True)
class SegmentData:
    """One fetched segment of one adaptation set.

    ``init`` is the fMP4 initialization segment (empty for self-contained segments,
    e.g. HLS MPEG-TS); ``media`` the media segment bytes.
    """

    media: bytes
    init: bytes = b""


@dataclass
class DemuxedTrack:
    kind: str  # "video" | "audio"
    codec: str
    packets: list[av.Packet]
    width: int = 0
    height: int = 0
    sample_rate: int = 0
    template: Any = None  # Matroska: the input stream the output stream copies (codec, extradata)
    nal_size: int = 4  # Matroska H.264/HEVC: bytes of each NAL length prefix
    extradata: bytes | None = None  # Matroska: codec private data the template lacks (AAC from ADTS)


# ---------------------------------------------------------------------- demux


def demux(seg: SegmentData, what: str, container: str = "mpegts") -> list[DemuxedTrack]:
    """The tracks of one segment, their packets in the form ``container`` takes."""
    data = seg.init + seg.media
    if not seg.media:
        raise SegmentError(f"{what} is empty", code="empty_segment")
    if data[:4] == b"\x1a\x45\xdf\xa3":
        if container != "matroska":
            raise MediaError(f"{what} is WebM/Matroska; an MPEG-TS stream cannot carry it",
                             code="unsupported_container",
                             user_message="This video uses a format (WebM) that Marquee cannot play yet.")
        try:  # the init segment's EBML header and Tracks, then the media segment's Clusters
            inp = av.open(io.BytesIO(data), "r", format="matroska", options={"probesize": "4096", "analyzeduration": "0"})
            return _read_tracks(inp, what, container)
        except av.FFmpegError as exc:
            raise SegmentError(f"{what} does not parse: {exc}", code="corrupt_segment",
                               user_message="A piece of the video was damaged.") from exc
    is_ts = not seg.init and seg.media[:1] == b"\x47"
    if is_ts:
        _check_ts(seg.media, what)
    else:
        if seg.init:
            _check_boxes(seg.init, f"{what} init")
        _check_boxes(seg.media, what)
    try:
        # fMP4 declares every codec parameter in its moov: no need for FFmpeg to probe
        # frames (that probing was ~80% of the remux cost).
        options = {} if is_ts else {"probesize": "4096", "analyzeduration": "0"}
        inp = av.open(io.BytesIO(data), "r", format="mpegts" if is_ts else None, options=options)
        if container == "matroska":
            return _read_tracks(inp, what, container)  # stays open: the output copies its streams
        with inp:
            return _read_tracks(inp, what, container)
    except av.FFmpegError as exc:
        raise SegmentError(f"{what} does not parse: {exc}", code="corrupt_segment",
                           user_message="A piece of the video was damaged.") from exc


def _read_tracks(inp: Any, what: str, container: str = "mpegts") -> list[DemuxedTrack]:
    if container == "matroska":
        return _read_for_matroska(inp, what)
    tracks: dict[int, DemuxedTrack] = {}
    filters: dict[int, Any] = {}
    adts: dict[int, bytes | None] = {}
    for s in inp.streams:
        if s.type not in ("video", "audio"):
            continue
        name = s.codec_context.name
        if s.type == "video":
            if name not in _ANNEXB_FILTERS and name not in _VIDEO_AS_IS:
                raise _unsupported(name)
            if name in _ANNEXB_FILTERS:
                filters[s.index] = av.bitstream.BitStreamFilterContext(_ANNEXB_FILTERS[name], s)
            tracks[s.index] = DemuxedTrack("video", name, [], s.codec_context.width, s.codec_context.height)
        else:
            if name != "aac" and name not in _AUDIO_AS_IS:
                raise _unsupported(name)
            if name == "aac":
                adts[s.index] = _adts_fixed(bytes(s.codec_context.extradata or b""), what)
            tracks[s.index] = DemuxedTrack("audio", name, [], sample_rate=s.codec_context.sample_rate)
    if not tracks:
        raise SegmentError(f"{what} has no audio or video stream", code="corrupt_segment")
    for pkt in inp.demux(*[inp.streams[i] for i in tracks]):
        if pkt.size == 0:  # demuxer flush marker
            continue
        if pkt.is_corrupt:
            raise SegmentError(f"{what} has a corrupt packet at pts {pkt.pts}", code="corrupt_segment")
        i = pkt.stream_index
        tb = pkt.time_base
        if i in filters:
            for out in filters[i].filter(pkt):
                out.time_base = tb
                tracks[i].packets.append(out)
        elif adts.get(i) is not None and not _is_adts(pkt):
            tracks[i].packets.append(_with_adts(pkt, adts[i]))  # type: ignore[arg-type]
        else:
            tracks[i].packets.append(pkt)
    for i, f in filters.items():
        for out in f.filter(None):
            tracks[i].packets.append(out)
    return _checked(tracks.values(), what)


def _read_for_matroska(inp: Any, what: str) -> list[DemuxedTrack]:
    tracks: dict[int, DemuxedTrack] = {}
    filters: dict[int, Any] = {}
    for s in inp.streams:
        if s.type not in ("video", "audio"):
            continue
        name = _CODEC_OF_DECODER.get(s.codec_context.name, s.codec_context.name)
        if name not in (MKV_VIDEO if s.type == "video" else MKV_AUDIO):
            raise _unsupported(name, "Matroska")
        track = DemuxedTrack(s.type, name, [], template=s)
        if s.type == "video":
            track.width, track.height = s.codec_context.width, s.codec_context.height
            size = nal_length_size(name, bytes(s.codec_context.extradata or b""))
            if name in _ANNEXB_FILTERS and size is not None:  # fMP4: length-prefixed, avcC/hvcC
                if size < 3:
                    raise _unsupported(name, f"Matroska (NAL lengths of {size} bytes)")
                track.nal_size = size
                filters[s.index] = av.bitstream.BitStreamFilterContext(_ANNEXB_FILTERS[name], s)
            # else (MPEG-TS): Annex B with parameter sets in-band already; the Matroska muxer
            # writes the header from the Annex B extradata and length-prefixes the packets.
        else:
            track.sample_rate = s.codec_context.sample_rate
        tracks[s.index] = track
    if not tracks:
        raise SegmentError(f"{what} has no audio or video stream", code="corrupt_segment")
    for pkt in inp.demux(*[inp.streams[i] for i in tracks]):
        if pkt.size == 0:
            continue
        if pkt.is_corrupt:
            raise SegmentError(f"{what} has a corrupt packet at pts {pkt.pts}", code="corrupt_segment")
        i = pkt.stream_index
        track = tracks[i]
        if track.codec == "aac" and _is_adts(pkt) and not track.template.codec_context.extradata:
            track.packets.append(_without_adts(pkt, track))  # MPEG-TS AAC: Matroska wants it raw
            continue
        if i not in filters:
            track.packets.append(pkt)
            continue
        tb = pkt.time_base
        for out in filters[i].filter(pkt):  # Annex B with the rung's SPS/PPS on its keyframe...
            framed = av.Packet(annexb_to_length_prefixed(bytes(out), tracks[i].nal_size))  # ...length-prefixed again
            framed.time_base = tb
            framed.pts, framed.dts, framed.duration = out.pts, out.dts, out.duration
            framed.is_keyframe = out.is_keyframe
            tracks[i].packets.append(framed)
    return _checked(tracks.values(), what)


def _checked(tracks: Iterable[DemuxedTrack], what: str) -> list[DemuxedTrack]:
    """The tracks that hold packets; a segment whose video does not open on a keyframe, or that
    holds nothing, is corrupt (both readers apply the same rule)."""
    result = [t for t in tracks if t.packets]
    for t in result:
        if t.kind == "video" and not t.packets[0].is_keyframe:
            raise SegmentError(f"{what} does not start with a keyframe", code="corrupt_segment")
    if not result:
        raise SegmentError(f"{what} holds no packets", code="corrupt_segment")
    return result


def _unsupported(codec: str, container: str = "MPEG-TS") -> MediaError:
    name = codec_name(codec)
    return MediaError(
        f"codec {name} ({codec}) cannot be carried in {container} for mpv",
        code="unsupported_codec",
        user_message=f"This video uses a format ({name}) that Marquee cannot play yet.",
    )


def time_span(track: DemuxedTrack) -> tuple[float, float]:
    start = end = None
    for p in track.packets:
        if p.pts is None:
            continue
        t0 = float((p.pts * p.time_base))
        t1 = t0 + float(((p.duration or 0) * p.time_base))
        start = t0 if start is None else min(start, t0)
        end = t1 if end is None else max(end, t1)
    if start is None or end is None:
        return 0.0, 0.0
    return start, end


# --------------------------------------------------------------- validation


def _check_boxes(data: bytes, what: str) -> None:
    """Walk the top-level ISO-BMFF boxes; a truncated or garbled segment fails here."""
    pos, n = 0, len(data)
    seen: list[bytes] = []
    while pos < n:
        if n - pos < 8:
            raise SegmentError(f"{what}: {n - pos} stray bytes at offset {pos}", code="truncated_segment")
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if n - pos < 16:
                raise SegmentError(f"{what}: truncated box header at {pos}", code="truncated_segment")
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = n - pos
        if not kind.isascii() or not kind.replace(b" ", b"a").isalnum():
            raise SegmentError(f"{what}: garbage box type {kind!r} at offset {pos}", code="corrupt_segment")
        if size < header:
            raise SegmentError(f"{what}: box {kind!r} has bad size {size}", code="corrupt_segment")
        if pos + size > n:
            raise SegmentError(
                f"{what}: box {kind.decode()} needs {size} bytes at offset {pos}, only {n - pos} left",
                code="truncated_segment", user_message="A piece of the video arrived incomplete.")
        seen.append(kind)
        pos += size
    if b"moov" not in seen and b"moof" not in seen:
        raise SegmentError(f"{what}: no moov or moof box", code="corrupt_segment")


def _check_ts(data: bytes, what: str) -> None:
    if len(data) % 188:
        raise SegmentError(f"{what}: {len(data)} bytes is not a whole number of TS packets",
                           code="truncated_segment")
    if any(data[i] != 0x47 for i in range(0, len(data), 188)):
        raise SegmentError(f"{what}: TS sync byte missing", code="corrupt_segment")


# --------------------------------------------------------------------- ADTS


def _adts_fixed(asc: bytes, what: str) -> bytes | None:
    """The fixed part of an ADTS header (profile, rate, channels) from an AudioSpecificConfig.

    Returns None when there is no ASC (the packets are already ADTS, as from a TS source).
    """
    if len(asc) < 2:
        return None
    bits = int.from_bytes(asc, "big")
    nbits = len(asc) * 8
    pos = 0

    def take(k: int) -> int:
        nonlocal pos
        if pos + k > nbits:
            raise SegmentError(f"{what}: AudioSpecificConfig too short", code="corrupt_segment")
        pos += k
        return (bits >> (nbits - pos)) & ((1 << k) - 1)

    def aot() -> int:
        v = take(5)
        return 32 + take(6) if v == 31 else v

    def rate_index() -> int:
        i = take(4)
        if i == 15:
            raise MediaError(f"{what}: explicit AAC sample rate {take(24)} has no ADTS form",
                             code="unsupported_codec")
        return i

    obj = aot()
    sfi = rate_index()
    chan = take(4)
    if obj in (5, 29):  # explicit SBR/PS: the core follows
        sfi = rate_index()
        obj = aot()
    if not 1 <= obj <= 4:
        raise MediaError(f"{what}: AAC object type {obj} cannot be framed as ADTS", code="unsupported_codec")
    return bytes([0xFF, 0xF1, ((obj - 1) << 6) | (sfi << 2) | (chan >> 2), (chan & 3) << 6])


def _is_adts(pkt: av.Packet) -> bool:
    head = bytes(memoryview(pkt)[:2]) if pkt.size >= 2 else b""
    return len(head) == 2 and head[0] == 0xFF and head[1] & 0xF0 == 0xF0


def _without_adts(pkt: av.Packet, track: DemuxedTrack) -> av.Packet:
    """The raw AAC frame of an ADTS packet; the track learns its AudioSpecificConfig."""
    head = bytes(memoryview(pkt)[:9])
    obj, sfi = (head[2] >> 6) + 1, (head[2] >> 2) & 0xF
    channels = ((head[2] & 1) << 2) | (head[3] >> 6)
    if track.extradata is None:
        track.extradata = ((obj << 11) | (sfi << 7) | (channels << 3)).to_bytes(2, "big")
    out = av.Packet(bytes(pkt)[7 if head[1] & 1 else 9:])
    out.time_base = pkt.time_base
    out.pts, out.dts, out.duration = pkt.pts, pkt.dts, pkt.duration
    out.is_keyframe = True
    return out


def _with_adts(pkt: av.Packet, fixed: bytes) -> av.Packet:
    length = pkt.size + 7
    if length > 0x1FFF:
        raise SegmentError(f"AAC frame of {pkt.size} bytes is too large for ADTS", code="corrupt_segment")
    header = fixed[:3] + bytes([
        fixed[3] | (length >> 11),
        (length >> 3) & 0xFF,
        ((length & 7) << 5) | 0x1F,
        0xFC,
    ])
    out = av.Packet(header + bytes(pkt))
    out.time_base = pkt.time_base
    out.pts, out.dts, out.duration = pkt.pts, pkt.dts, pkt.duration
    out.is_keyframe = True
    return out
