"""A window with known pixels for capture tests: coloured blocks and a line of English and
Chinese text. ``pattern_image`` makes the picture; run as a script it shows it frameless at
an exact position on $DISPLAY and prints ``ready`` once it is on screen.

    python tests/capture/pattern_window.py X Y [WIDTH HEIGHT]
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

TEXT_EN = "Invoice 2024-0193 total 42.50 EUR"
TEXT_ZH = "会议纪要周五发布候选版本"
COLOURS = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (70, 240, 240), (240, 50, 230)]


def pattern_image(width: int = 800, height: int = 400) -> Image.Image:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from vlagent.samples import font

    img = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(img)
    block = width // len(COLOURS)
    for i, c in enumerate(COLOURS):
        d.rectangle([i * block, 0, (i + 1) * block - 1, height // 3 - 1], fill=c)
    # a one-pixel checkerboard strip: any off-by-one or scaling in a crop shows up here
    for x in range(0, width):
        for y in range(height // 3, height // 3 + 8):
            img.putpixel((x, y), (0, 0, 0) if (x + y) % 2 else (255, 255, 255))
    f = font(34)
    d.text((20, height // 3 + 30), TEXT_EN, fill="black", font=f)
    d.text((20, height // 3 + 100), TEXT_ZH, fill=(20, 20, 120), font=f)
    return img


def main(argv: list[str]) -> int:
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtGui import QImage, QPixmap
    from PySide6.QtWidgets import QApplication, QLabel

    x, y = int(argv[0]), int(argv[1])
    w, h = (int(argv[2]), int(argv[3])) if len(argv) >= 4 else (800, 400)
    app = QApplication([])
    img = pattern_image(w, h)
    qimg = QImage(img.tobytes(), w, h, w * 3, QImage.Format.Format_RGB888).copy()
    label = QLabel()
    label.setWindowFlags(Qt.WindowType.FramelessWindowHint | Qt.WindowType.X11BypassWindowManagerHint)
    label.setPixmap(QPixmap.fromImage(qimg))
    label.setContentsMargins(0, 0, 0, 0)
    label.setGeometry(x, y, w, h)
    label.show()

    def ready():
        app.sync()
        print("ready", flush=True)

    QTimer.singleShot(150, ready)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
