import pytest

from service.httputil import ByteRange, RangeNotSatisfiable, content_type, parse_range, safe_relative_path


@pytest.mark.parametrize("header,expected", [
    (None, None), ("", None), ("bytes=0-99", ByteRange(0, 99)), ("bytes=10-", ByteRange(10, 999)),
    ("bytes=-100", ByteRange(900, 999)), ("bytes=-5000", ByteRange(0, 999)), ("bytes=990-5000", ByteRange(990, 999)),
    ("bytes=0-0", ByteRange(0, 0)), ("items=0-5", None), ("bytes=0-5,10-20", None), ("bytes=abc", None),
    ("bytes=5-2", None), ("bytes=x-", None),
])
def test_parse_range(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 1000)


@pytest.mark.parametrize("raw,ok", [
    ("v0/seg-1.m4s", True), ("manifest.mpd", True), ("../secret", False), ("v0/../../x", False), ("/etc/passwd", False),
    ("v0//x", False), ("a\\b", False), ("a\x00b", False), ("", False), ("./x", False),
])
def test_safe_relative_path(raw: str, ok: bool) -> None:
    assert (safe_relative_path(raw) is not None) == ok


def test_content_types() -> None:
    assert content_type("manifest.mpd") == "application/dash+xml"
    assert content_type("x/master.m3u8") == "application/vnd.apple.mpegurl"
    assert content_type("seg-1.m4s") == "video/iso.segment"
    assert content_type("sub.vtt").startswith("text/vtt")
    assert content_type("blob.bin") == "application/octet-stream"
