"""Thumbnails for the result list: decoded off the GUI thread, kept in a small LRU cache."""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QImage, QImageReader, QPixmap

from vlagent.gui.tasks import TaskThread

CACHE_SIZE = 600


class Thumbnails(QObject):
    """``get(path)`` returns the cached pixmap or None (and starts loading it); ``ready(path)``
    fires when a load finishes."""

    ready = Signal(str)

    def __init__(self, size: int = 96, parent: QObject | None = None):
        super().__init__(parent)
        self.size = size
        self._cache: OrderedDict[str, QPixmap] = OrderedDict()
        self._loading: set[str] = set()
        self._failed: set[str] = set()
        self.tasks = TaskThread("thumbnails", self)

    def get(self, path: str | None) -> QPixmap | None:
        if not path or path in self._failed:
            return None
        pix = self._cache.get(path)
        if pix is not None:
            self._cache.move_to_end(path)
            return pix
        if path not in self._loading:
            self._loading.add(path)
            self.tasks.submit(lambda: read_scaled(path, self.size), lambda img: self._loaded(path, img),
                              lambda _e: self._loaded(path, None))
        return None

    def _loaded(self, path: str, image: QImage | None) -> None:
        self._loading.discard(path)
        if image is None or image.isNull():
            self._failed.add(path)
        else:
            self._cache[path] = QPixmap.fromImage(image)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        self.ready.emit(path)

    def stop(self) -> None:
        self.tasks.stop()


def read_scaled(path: str, longest: int) -> QImage:
    """Read an image file at most ``longest`` pixels on its longest side (decoding only what
    that needs, where the format allows)."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > longest:
        reader.setScaledSize(size.scaled(QSize(longest, longest), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        raise OSError(f"{path}: {reader.errorString()}")
    return image
