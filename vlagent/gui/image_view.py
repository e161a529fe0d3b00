"""A zoomable image view: fits the pane until the user zooms (wheel, +/-), double-click
toggles between fit and 100 %; a message replaces the image while loading or when the
file is gone."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QFrame, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView

ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.05, 16.0


class ImageView(QGraphicsView):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumHeight(160)
        self.setToolTip(self.tr("Scroll to zoom, drag to move, double-click for 100 % or to fit"))
        self._fit = True
        self._message = ""

    @property
    def has_image(self) -> bool:
        return not self._item.pixmap().isNull()

    def set_image(self, image: QImage | QPixmap | None, message: str = "") -> None:
        pix = QPixmap.fromImage(image) if isinstance(image, QImage) else (image or QPixmap())
        self._item.setPixmap(pix)
        self.scene().setSceneRect(self._item.boundingRect())
        self._message = message if pix.isNull() else ""
        self._fit = True
        self.fit()
        self.viewport().update()

    def set_message(self, message: str) -> None:
        self.set_image(None, message)

    def zoom(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        if self.has_image:
            self.resetTransform()
            r = self._item.boundingRect()
            view = self.viewport().rect()
            # Never blow a small image up past 100 % just to fill the pane.
            if r.width() > view.width() or r.height() > view.height():
                self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)

    def zoom_by(self, factor: float) -> None:
        if not self.has_image:
            return
        target = min(max(self.zoom() * factor, MIN_ZOOM), MAX_ZOOM)
        self._fit = False
        self.scale(target / self.zoom(), target / self.zoom())

    def actual_size(self) -> None:
        self._fit = False
        self.resetTransform()

    # --- events -------------------------------------------------------------------------
    def wheelEvent(self, event):
        if event.angleDelta().y():
            self.zoom_by(ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP)
            event.accept()

    def keyPressEvent(self, event):
        if event.key() in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(ZOOM_STEP)
        elif event.key() == Qt.Key.Key_Minus:
            self.zoom_by(1 / ZOOM_STEP)
        elif event.key() == Qt.Key.Key_0:
            self._fit = True
            self.fit()
        else:
            super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event):
        if self._fit:
            self.actual_size()
        else:
            self._fit = True
            self.fit()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if self._fit:
            self.fit()

    def drawForeground(self, painter, rect):
        if self._message and not self.has_image:
            painter.save()
            painter.resetTransform()
            painter.setPen(self.palette().color(self.foregroundRole()))
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._message)
            painter.restore()
