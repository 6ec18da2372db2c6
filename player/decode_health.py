"""mpv's decode errors, counted (pure: log lines in, a verdict out).

FFmpeg's decoders report damaged data as error lines of mpv's log (prefix
``ffmpeg/video`` or ``ffmpeg/audio``, each starting with the decoder's name), and mpv's
own decoder wrappers (``vd``, ``ad``) report frames they could not decode. A stream
whose every frame is garbage (damaged on the server, or encrypted and played without
its key) plays on in silence with frozen pictures, so the engine counts these lines:
one damaged frame is forgiven, ``DECODE_ERROR_LIMIT`` lines end the playback as a
failure whose message names the codec, not the decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DECODE_ERROR_LIMIT", "DecodeHealth", "codec_name"]

DECODE_ERROR_LIMIT = 30
"""A damaged frame costs FFmpeg 2-4 error lines; 30 is many frames, never one glitch."""

_DECODER_PREFIXES = ("ffmpeg/video", "ffmpeg/audio")
_WRAPPERS = ("vd", "ad")

# FFmpeg decoder names -> the codec a person knows.
_CODECS = {
    "h264": "H.264", "hevc": "HEVC", "av1": "AV1", "libdav1d": "AV1", "libaom-av1": "AV1", "vp9": "VP9",
    "libvpx-vp9": "VP9", "vp8": "VP8", "aac": "AAC", "aac_fixed": "AAC", "opus": "Opus", "libopus": "Opus",
    "ac3": "AC-3", "ac3_fixed": "AC-3", "eac3": "E-AC-3", "flac": "FLAC", "mp3float": "MP3", "mp3": "MP3",
    "mpeg2video": "MPEG-2",
}


def codec_name(decoder: str) -> str:
    """The codec a decoder decodes ("libdav1d" -> "AV1"); the name itself if unknown."""
    return _CODECS.get(decoder.strip().lower(), decoder.strip() or "unknown")


@dataclass
class DecodeHealth:
    errors: int = 0
    kind: str = "video"  # of the last error: "video" or "audio"
    codec: str = ""  # of the last error, as a person names it

    def observe(self, level: str, prefix: str, text: str) -> bool:
        """Count one log line of mpv; True when it is a decode error."""
        if level not in ("error", "fatal"):
            if not (prefix in _WRAPPERS and "decod" in text.lower()):
                return False
        elif prefix not in _DECODER_PREFIXES and not (prefix in _WRAPPERS and "decod" in text.lower()):
            return False
        self.errors += 1
        self.kind = "audio" if prefix in ("ffmpeg/audio", "ad") else "video"
        decoder, sep, _ = text.partition(":")
        if sep and " " not in decoder.strip():
            self.codec = codec_name(decoder)
        return True

    @property
    def failed(self) -> bool:
        return self.errors >= DECODE_ERROR_LIMIT

    def message(self) -> str:
        what = f"The {self.kind} ({self.codec})" if self.codec else f"The {self.kind}"
        return (f"{what} could not be decoded: {self.errors} decoding errors. The stream is damaged, "
                "or encrypted with keys Marquee does not have.")
