from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.fakes import FakeSource, _tile
from ui.models import PosterRole, ProgressRole, RowsModel, TileModel, TileRole


def test_tile_model_roles_and_counts(qapp) -> None:  # type: ignore[no-untyped-def]
    tiles = [_tile(i, progress=0.5 if i == 1 else None) for i in range(3)]
    m = TileModel(tiles)
    assert m.rowCount() == 3
    idx = m.index(1)
    assert m.data(idx, Qt.ItemDataRole.DisplayRole) == "Title 1"
    assert m.data(idx, TileRole) is tiles[1]
    assert m.data(idx, ProgressRole) == 0.5
    assert m.data(m.index(0), ProgressRole) is None
    assert m.data(m.index(7), TileRole) is None


def test_artwork_loaded_repaints_only_matching_tiles(qtbot) -> None:  # type: ignore[no-untyped-def]
    tiles = [_tile(i) for i in range(5)]
    m = TileModel(tiles)
    changed: list[int] = []
    m.dataChanged.connect(lambda a, b, roles: changed.extend(range(a.row(), b.row() + 1)))
    m.artwork_loaded(tiles[3].poster)
    assert changed == [3]
    m.artwork_loaded("http://elsewhere/x.jpg")
    assert changed == [3]
    assert m.data(m.index(3), PosterRole) == tiles[3].poster


def test_rows_model_builds_one_tile_model_per_row(qapp) -> None:  # type: ignore[no-untyped-def]
    rows = FakeSource(rows=4, per_row=7).rows("p1")
    m = RowsModel()
    m.set_rows(rows)
    assert m.rowCount() == 4
    assert m.data(m.index(0), Qt.ItemDataRole.DisplayRole) == "Continue Watching"
    assert m.tile_model(2).rowCount() == 7
    m.set_rows(rows[:1])
    assert m.rowCount() == 1


def test_thousands_of_tiles_are_cheap(qapp) -> None:  # type: ignore[no-untyped-def]
    m = TileModel([_tile(i) for i in range(5000)])
    assert m.rowCount() == 5000
    assert m.data(m.index(4999), TileRole).title == "Title 4999"
