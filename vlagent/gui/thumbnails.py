"""Thumbnails for the result list and the timeline: decoded off the GUI thread, kept in a
small LRU cache. A load may say when it is no longer wanted (scrolled past before its turn
came): it is then skipped, and asked for again when it is back on screen."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QImage, QImageReader, QPixmap

from vlagent.gui.tasks import TaskThread

CACHE_SIZE = 600
_SKIPPED = object()  # a load skipped because nobody wanted it any more


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
        self.loads_started = 0  # files read (or about to be): the list and timeline ask only for what is on screen
        self.tasks = TaskThread("thumbnails", self)

    def get(self, path: str | None, still_wanted: Callable[[str], bool] | None = None) -> QPixmap | None:
        if not path or path in self._failed:
            return None
        pix = self._cache.get(path)
        if pix is not None:
            self._cache.move_to_end(path)
            return pix
        if path not in self._loading:
            self._loading.add(path)
            self.loads_started += 1
            self.tasks.submit(lambda: self._read(path, still_wanted), lambda img: self._loaded(path, img),
                              lambda _e: self._loaded(path, None))
        return None

    def _read(self, path: str, still_wanted: Callable[[str], bool] | None) -> object:
        """On the thumbnails thread; ``still_wanted`` reads what the GUI thread last put on screen."""
        if still_wanted is not None and not still_wanted(path):
            return _SKIPPED
        return read_scaled(path, self.size)

    def _loaded(self, path: str, image: object) -> None:
        self._loading.discard(path)
        if image is _SKIPPED:
            return
        if not isinstance(image, QImage) or image.isNull():
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
