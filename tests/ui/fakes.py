"""A fake service and a fake engine for UI tests (no sockets, no mpv)."""

from __future__ import annotations

import io
import threading
from dataclasses import replace

from PIL import Image

from marquee.errors import NetworkError
from player.control import EventCallback, PlayRequest, SnapshotCallback
from player.events import PlaybackSnapshot, PlaybackState, TrackInfo
from tests.event_factory import event
from ui.catalog import Episode, OcaInfo, PlaybackInfo, Profile, Row, Season, Tile, TitleDetail

GENRES = ("Drama", "Comedy", "Thriller", "Sci-Fi", "Documentary", "Animation")
COLORS = ((180, 60, 70), (60, 90, 170), (50, 140, 110), (160, 120, 40), (120, 70, 160))


def _tile(i: int, row: int = 0, progress: float | None = None) -> Tile:
    tid = f"t{i:03d}"
    return Tile(title_id=tid, title=f"Title {i}", kind="series" if i % 4 == 0 else "film", year=2000 + i % 25,
                genres=(GENRES[i % len(GENRES)], GENRES[(i + 2) % len(GENRES)]),
                poster=f"http://fake/artwork/{tid}/poster-0.jpg", backdrop=f"http://fake/artwork/{tid}/backdrop-0.jpg",
                progress=progress, synopsis=f"Synopsis of title {i}.")


class FakeSource:
    def __init__(self, rows: int = 5, per_row: int = 12, fail: bool = False) -> None:
        self.n_rows, self.per_row = rows, per_row
        self.fail = fail
        self.calls: list[tuple] = []
        self.lock = threading.Lock()

    def _record(self, *call: object) -> None:
        with self.lock:
            self.calls.append(call)
        if self.fail:
            raise NetworkError("fake offline", user_message="Cannot reach the Marquee service.")

    def profiles(self) -> list[Profile]:
        self._record("profiles")
        return [Profile("p1", "Alex", "#e8485c"), Profile("p2", "Sam", "#3d7be0"), Profile("p3", "Kids", "#2fae84")]

    def rows(self, profile_id: str) -> list[Row]:
        self._record("rows", profile_id)
        rows = [Row("continue", "Continue Watching", "continue_watching",
                    tuple(_tile(i, 0, progress=0.2 + 0.1 * (i % 6)) for i in range(min(6, self.per_row))))]
        for r in range(1, self.n_rows):
            rows.append(Row(f"r{r}", f"Row {r}", "genre",
                            tuple(_tile(r * 100 + i, r) for i in range(self.per_row))))
        return rows

    def title(self, title_id: str, profile_id: str) -> TitleDetail:
        self._record("title", title_id)
        n = int(title_id[1:])
        series = n % 4 == 0
        seasons = tuple(Season(s, tuple(Episode(f"{title_id}-s{s}e{e:02d}", e, f"Episode {e}", "What happens.", 1500,
                                                progress=0.5 if (s, e) == (1, 2) else None,
                                                position_s=750.0 if (s, e) == (1, 2) else 0.0)
                                        for e in range(1, 5))) for s in (1, 2)) if series else ()
        return TitleDetail(id=title_id, title=f"Title {n}", kind="series" if series else "film", year=2001,
                           genres=("Drama",), maturity="PG-13", synopsis="A synopsis.", cast=("A. Actor", "B. Actor"),
                           runtime_s=5400, poster=f"http://fake/artwork/{title_id}/poster-0.jpg",
                           backdrop=f"http://fake/artwork/{title_id}/backdrop-0.jpg", seasons=seasons,
                           position_s=0.0 if series else 754.0,
                           more_like_this=tuple(_tile(k) for k in range(n + 1, n + 5) if n != 199))

    def search(self, query: str, profile_id: str) -> list[Tile]:
        self._record("search", query)
        return [_tile(i) for i in range(30) if query.lower().strip() in f"title {i}"]

    def playback(self, profile_id: str, title_id: str, episode_id: str | None = None) -> PlaybackInfo:
        self._record("playback", title_id, episode_id)
        return PlaybackInfo(playback_id="pb1", title_id=title_id, media_id="m0", episode_id=episode_id,
                            dash_url="http://127.0.0.1:1/c/tok/m0/manifest.mpd",
                            hls_url="http://127.0.0.1:1/c/tok/m0/master.m3u8",
                            manifests={"dash": "manifest.mpd", "hls": "master.m3u8"},
                            ocas=(OcaInfo("oca-1", "http://127.0.0.1:1/c/tok/m0/", 1),))

    def fetch_bytes(self, url: str) -> bytes:
        self._record("fetch", url)
        wide = "backdrop" in url
        color = COLORS[sum(map(ord, url)) % len(COLORS)]
        img = Image.new("RGB", (320, 180) if wide else (200, 300), color)
        buf = io.BytesIO()
        img.save(buf, "JPEG")
        return buf.getvalue()

    def health(self) -> bool:
        return not self.fail


class FakeEngine:
    """A PlaybackControl that records intents and publishes snapshots on its own thread."""

    def __init__(self, on_snapshot: SnapshotCallback, on_event: EventCallback) -> None:
        self.on_snapshot, self.on_event = on_snapshot, on_event
        self.calls: list[tuple] = []
        self.snap = PlaybackSnapshot()

    def _publish(self, **changes: object) -> None:
        self.snap = replace(self.snap, **changes)
        snap = self.snap
        t = threading.Thread(target=self.on_snapshot, args=(snap,))
        t.start()
        t.join()

    def emit_event(self, kind: str, **data: object) -> None:
        t = threading.Thread(target=self.on_event, args=(event(kind, **data),))
        t.start()
        t.join()

    def prepare(self) -> None:
        self.calls.append(("prepare",))

    def play(self, request: PlayRequest) -> None:
        self.calls.append(("play", request))
        self.emit_event("tracks", tracks=[vars(t) for t in self.tracks()])
        self._publish(state=PlaybackState.PLAYING, title=request.title, position_s=request.start_s, duration_s=5400.0,
                      rung=2, rung_count=5, bitrate_kbps=1800.0, resolution=(1280, 720), buffer_s=12.0,
                      buffered_until_s=request.start_s + 12, audio_language="en", oca="oca-1")

    def pause(self) -> None:
        self.calls.append(("pause",))
        self._publish(state=PlaybackState.PAUSED, paused=True)

    def resume(self) -> None:
        self.calls.append(("resume",))
        self._publish(state=PlaybackState.PLAYING, paused=False)

    def toggle_pause(self) -> None:
        self.calls.append(("toggle_pause",))
        self.resume() if self.snap.paused else self.pause()

    def seek(self, position_s: float) -> None:
        self.calls.append(("seek", position_s))
        self._publish(position_s=position_s)

    def stop(self) -> None:
        self.calls.append(("stop",))
        self._publish(state=PlaybackState.IDLE)

    def set_volume(self, volume: int) -> None:
        self.calls.append(("volume", volume))
        self._publish(volume=volume)

    def set_muted(self, muted: bool) -> None:
        self.calls.append(("muted", muted))
        self._publish(muted=muted)

    def set_audio_language(self, language: str) -> None:
        self.calls.append(("audio", language))
        self._publish(audio_language=language)

    def set_subtitle_language(self, language: str | None) -> None:
        self.calls.append(("subtitles", language))
        self._publish(subtitle_language=language or "")

    def set_quality_cap(self, rung: int | None) -> None:
        self.calls.append(("quality", rung))
        self._publish(quality_cap=rung)

    def tracks(self) -> list[TrackInfo]:
        return [TrackInfo("video", str(i), "", f"{h}p", 300.0 * (i + 1), h) for i, h in enumerate((144, 240, 360, 720, 1080))] + [
            TrackInfo("audio", "a1", "en", "English"), TrackInfo("audio", "a2", "fr", "Français"),
            TrackInfo("text", "s1", "en", "English")]

    def snapshot(self) -> PlaybackSnapshot:
        return self.snap
