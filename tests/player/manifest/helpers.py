from __future__ import annotations

import pathlib

from player.manifest import HlsMultivariant, Presentation, build_hls_presentation, parse_manifest

CORPUS = pathlib.Path(__file__).parent / "corpus"
HLS_ORIGIN = "https://origin.example.com/vod/t1/"


def corpus_url(name: str) -> str:
    if name.startswith("hls_steering/"):
        return HLS_ORIGIN + name.removeprefix("hls_steering/")
    return "https://media.example.com/content/m1/" + name


def load(name: str) -> Presentation:
    """Parse a corpus file; a multivariant playlist is built from the corpus media playlists."""
    url = corpus_url(name)
    parsed = parse_manifest((CORPUS / name).read_bytes(), url, None)
    if isinstance(parsed, HlsMultivariant):
        texts = {u: (CORPUS / "hls_steering" / u.removeprefix(HLS_ORIGIN)).read_bytes() for u in parsed.media_playlist_urls}
        return build_hls_presentation(parsed, texts)
    return parsed
