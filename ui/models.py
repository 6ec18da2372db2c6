"""Item models: the home's rows and each row's tiles.

Views never hold lists of widgets per title: a row is a QListView over a
``TileModel``, painted by one delegate, so thousands of tiles stay cheap.
``RowsModel`` lists the rows themselves (the home page builds one row view per
entry; tests and the search page use it directly).
"""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from ui.catalog import Episode, Row, Tile, tile_subtitle

Index = QModelIndex | QPersistentModelIndex

TileRole = Qt.ItemDataRole.UserRole + 1
PosterRole = Qt.ItemDataRole.UserRole + 2
BackdropRole = Qt.ItemDataRole.UserRole + 3
ProgressRole = Qt.ItemDataRole.UserRole + 4
SubtitleRole = Qt.ItemDataRole.UserRole + 5
RowRole = Qt.ItemDataRole.UserRole + 6
EpisodeRole = Qt.ItemDataRole.UserRole + 7


class TileModel(QAbstractListModel):
    def __init__(self, tiles: Sequence[Tile] = (), parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tiles: list[Tile] = list(tiles)
        self._by_url: dict[str, list[int]] = {}
        self._index_urls()

    def _index_urls(self) -> None:
        self._by_url.clear()
        for i, t in enumerate(self._tiles):
            for url in {t.poster, t.backdrop} - {""}:
                self._by_url.setdefault(url, []).append(i)

    def set_tiles(self, tiles: Sequence[Tile]) -> None:
        self.beginResetModel()
        self._tiles = list(tiles)
        self._index_urls()
        self.endResetModel()

    def tiles(self) -> list[Tile]:
        return list(self._tiles)

    def tile(self, row: int) -> Tile | None:
        return self._tiles[row] if 0 <= row < len(self._tiles) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._tiles)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._tiles):
            return None
        t = self._tiles[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return t.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{t.title}\n{tile_subtitle(t)}"
        if role == TileRole:
            return t
        if role == PosterRole:
            return t.poster
        if role == BackdropRole:
            return t.backdrop
        if role == ProgressRole:
            return t.progress
        if role == SubtitleRole:
            return tile_subtitle(t)
        return None

    def artwork_loaded(self, url: str) -> None:
        for i in self._by_url.get(url, ()):
            idx = self.index(i)
            self.dataChanged.emit(idx, idx, [PosterRole, BackdropRole])


class RowsModel(QAbstractListModel):
    """The home's rows (title + tiles); ``tile_model(i)`` gives each row's tile model."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Row] = []
        self._tile_models: list[TileModel] = []

    def set_rows(self, rows: Sequence[Row]) -> None:
        self.beginResetModel()
        for m in self._tile_models:
            m.deleteLater()
        self._rows = list(rows)
        self._tile_models = [TileModel(r.items, self) for r in self._rows]
        self.endResetModel()

    def rows(self) -> list[Row]:
        return list(self._rows)

    def tile_model(self, row: int) -> TileModel:
        return self._tile_models[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return r.title
        if role == RowRole:
            return r
        return None

    def artwork_loaded(self, url: str) -> None:
        for m in self._tile_models:
            m.artwork_loaded(url)


class EpisodeModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._episodes: list[Episode] = []

    def set_episodes(self, episodes: Sequence[Episode]) -> None:
        self.beginResetModel()
        self._episodes = list(episodes)
        self.endResetModel()

    def episode(self, row: int) -> Episode | None:
        return self._episodes[row] if 0 <= row < len(self._episodes) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._episodes)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._episodes):
            return None
        e = self._episodes[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{e.number}. {e.title}"
        if role == EpisodeRole:
            return e
        if role == ProgressRole:
            return e.progress
        return None
