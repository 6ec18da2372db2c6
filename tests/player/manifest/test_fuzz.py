"""Fuzzing: random and mutated manifests give a Presentation (or multivariant) or a ManifestError, nothing else."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marquee.errors import ManifestError
from player.manifest import HlsMultivariant, Presentation, build_hls_presentation, parse_hls_media, parse_manifest
from tests.player.manifest.helpers import CORPUS, HLS_ORIGIN, corpus_url

FUZZ = settings(max_examples=int(__import__("os").environ.get("MARQUEE_FUZZ_EXAMPLES", "200")), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FILES = sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file())
TOP_LEVEL = [f for f in FILES if "/" not in f or f.endswith("master.m3u8")]
MEDIA_PLAYLISTS = [f for f in FILES if f.endswith(".m3u8") and not f.endswith("master.m3u8")]
NASTY = ["", "-1", "0", "999999999999", "abc", "$", "$Number$", "&amp;", "<", '"', ",", "@", "\x00", "é", "1e308", "nan", "PT", "x/0"]


def check_result(result: object) -> None:
    """A successful parse must also be a sane one."""
    if isinstance(result, HlsMultivariant):
        assert result.variants and result.base_urls
        return
    assert isinstance(result, Presentation)
    for rep in result.representations():
        starts = [seg.start_s for seg in rep.segments]
        assert starts == sorted(starts), rep.id  # segment_index_at relies on it
        for seg in rep.segments:
            assert math.isfinite(seg.start_s) and math.isfinite(seg.duration_s) and seg.duration_s >= 0
            if seg.byte_range is not None:
                assert 0 <= seg.byte_range[0] <= seg.byte_range[1]


def parse_or_error(data: bytes, url: str) -> object | None:
    try:
        result = parse_manifest(data, url, None)
    except ManifestError:
        return None
    check_result(result)
    return result


@st.composite
def mutated(draw: st.DrawFn, files: list[str]) -> tuple[str, bytes]:
    name = draw(st.sampled_from(files))
    text = (CORPUS / name).read_text(encoding="utf-8")
    lines = text.splitlines()
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "replace_token", "insert", "truncate"]))
        if not lines:
            break
        i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "replace_token":
            tokens = [t for t in lines[i].replace(",", " ").replace('"', " ").replace("=", " ").split() if t]
            if tokens:
                token = draw(st.sampled_from(tokens))
                lines[i] = lines[i].replace(token, draw(st.sampled_from(NASTY) | st.text(max_size=8)), 1)
        elif op == "insert":
            pos = draw(st.integers(min_value=0, max_value=len(lines[i])))
            lines[i] = lines[i][:pos] + draw(st.text(max_size=12)) + lines[i][pos:]
        else:
            cut = draw(st.integers(min_value=0, max_value=len(lines[i])))
            lines = lines[:i] + [lines[i][:cut]]
    return name, "\n".join(lines).encode("utf-8", errors="surrogatepass")


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(data: bytes) -> None:
    parse_or_error(data, "https://h.example.com/x/manifest")


@FUZZ
@given(st.sampled_from([b"#EXTM3U\n", b'<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011">']), st.binary(max_size=1000))
def test_random_bytes_after_a_valid_header(head: bytes, tail: bytes) -> None:
    parse_or_error(head + tail, "https://h.example.com/x/manifest")


@FUZZ
@given(mutated(TOP_LEVEL))
def test_mutated_corpus_manifests(case: tuple[str, bytes]) -> None:
    name, data = case
    result = parse_or_error(data, corpus_url(name))
    if isinstance(result, HlsMultivariant):  # go on: assemble it from the real media playlists
        texts = {}
        for u in result.media_playlist_urls:
            path = CORPUS / "hls_steering" / u.removeprefix(HLS_ORIGIN)
            if u.startswith(HLS_ORIGIN) and path.is_file():
                texts[u] = path.read_bytes()
        try:
            check_result(build_hls_presentation(result, texts))
        except ManifestError:
            pass


@FUZZ
@given(mutated(MEDIA_PLAYLISTS))
def test_mutated_media_playlists(case: tuple[str, bytes]) -> None:
    name, data = case
    try:
        playlist = parse_hls_media(data, corpus_url(name))
    except ManifestError:
        return
    starts = [s.start_s for s in playlist.segments]
    assert starts == sorted(starts)


S_ATTR = st.one_of(st.none(), st.integers(min_value=-3, max_value=10**6).map(str), st.sampled_from(NASTY))


@FUZZ
@given(
    st.lists(st.tuples(S_ATTR, S_ATTR, S_ATTR), min_size=0, max_size=6),
    st.sampled_from(["", 'mediaPresentationDuration="PT30S"', 'type="dynamic"']),
    st.one_of(st.none(), st.integers(min_value=-1, max_value=10**5).map(str)),
)
def test_generated_segment_timelines(ss: list[tuple[str | None, str | None, str | None]], mpd_attrs: str, timescale: str | None) -> None:
    def s_element(t: str | None, d: str | None, r: str | None) -> str:
        attrs = " ".join(f'{k}="{v}"' for k, v in (("t", t), ("d", d), ("r", r)) if v is not None)
        return f"<S {attrs.replace('&', '&amp;').replace('<', '&lt;').replace(chr(34), '&quot;').replace(chr(0), '')}/>"

    ts = f' timescale="{timescale}"' if timescale is not None else ""
    mpd = (
        f'<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" {mpd_attrs}><Period><AdaptationSet contentType="video">'
        f'<SegmentTemplate media="$Time$.m4s"{ts}><SegmentTimeline>{"".join(s_element(*s) for s in ss)}</SegmentTimeline>'
        '</SegmentTemplate><Representation id="r" bandwidth="1"/></AdaptationSet></Period></MPD>'
    )
    result = parse_or_error(mpd.encode(), "https://h.example.com/x/m.mpd")
    if isinstance(result, Presentation):
        segs = result.representations()[0].segments
        assert all(b.number == a.number + 1 for a, b in zip(segs, segs[1:]))
