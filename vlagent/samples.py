"""Generated sample images: text in English and Chinese, screenshot-like pages, photos
without text. Used by ``vlagent demo``, the tests and the benchmarks."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

CJK_FONT_CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
]

EN_SENTENCES = [
    "Quarterly revenue grew 12% to 4.2 million dollars",
    "Error: connection refused while contacting the database server",
    "Meeting notes: ship the release candidate on Friday",
    "Invoice number 2024-0193 total due 42.50 EUR",
    "The quick brown fox jumps over the lazy dog",
    "Click Save to keep your changes before closing the window",
    "Flight BA117 to New York departs from gate 23 at 18:45",
    "Your package was delivered to the front door",
    "Temperature sensor reading 21.5 C humidity 40%",
    "Unit tests passed: 128, failed: 0, skipped: 3",
]
ZH_SENTENCES = [
    "图片中有一只小狗站在雪地上",
    "会议纪要：周五发布候选版本",
    "数据库连接失败，请检查网络设置",
    "本季度营业收入增长百分之十二",
    "发票号码二零二四零一九三，应付金额四十二元",
    "请点击保存按钮以保留您的更改",
    "航班将于十八点四十五分从二十三号登机口起飞",
    "您的包裹已送达前门",
    "温度传感器读数为二十一点五度",
    "单元测试全部通过，没有失败",
]


def find_cjk_font() -> str | None:
    for p in CJK_FONT_CANDIDATES:
        if Path(p).exists():
            return p
    try:  # fontconfig, where present
        import subprocess

        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=5).stdout
        for line in out.splitlines():
            path = line.split(":")[0].strip()
            if path:
                return path
    except (OSError, subprocess.SubprocessError):
        pass
    return None


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = find_cjk_font()
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def text_image(lines: list[str] | str, *, size: tuple[int, int] | None = None, font_size: int = 32,
               bg: str | tuple = "white", fg: str | tuple = "black", margin: int = 20) -> Image.Image:
    if isinstance(lines, str):
        lines = [lines]
    f = font(font_size)
    line_h = int(font_size * 1.5)
    if size is None:
        probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
        width = max(int(probe.textlength(line, font=f)) for line in lines) + 2 * margin
        size = (max(width, 64), line_h * len(lines) + 2 * margin)
    img = Image.new("RGB", size, bg)
    d = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        d.text((margin, margin + i * line_h), line, fill=fg, font=f)
    return img


def screenshot_like(width: int = 1920, height: int = 1080, *, lang: str = "mixed", seed: int = 0,
                    font_size: int = 18, dense: bool = False) -> tuple[Image.Image, list[str]]:
    """A desktop-like page: title bar, sidebar, paragraphs of UI-sized text (with ``dense``,
    lines of sentences that fill the page's width). Returns the image and the text lines
    drawn on it (ground truth)."""
    rng = random.Random(seed)
    img = Image.new("RGB", (width, height), (246, 247, 249))
    d = ImageDraw.Draw(img)
    drawn: list[str] = []
    d.rectangle([0, 0, width, 36], fill=(44, 62, 80))
    title = rng.choice(["Project Report - Editor", "Mail - Inbox", "终端 - 服务器日志", "设置 - 网络"])
    d.text((14, 8), title, fill="white", font=font(font_size))
    drawn.append(title)
    side_w = width // 6
    d.rectangle([0, 36, side_w, height], fill=(232, 235, 239))
    for i, item in enumerate(["Inbox", "Drafts", "已发送", "归档", "Settings"]):
        d.text((16, 60 + i * 34), item, fill=(30, 30, 30), font=font(font_size))
        drawn.append(item)
    pool = {"en": EN_SENTENCES, "zh": ZH_SENTENCES, "mixed": EN_SENTENCES + ZH_SENTENCES}[lang]
    y = 60
    x = side_w + 30
    f = font(font_size)
    while y < height - 2 * font_size:
        line = rng.choice(pool)
        while dense:
            more = line + (" " if line.isascii() else "，") + rng.choice(pool)
            if d.textlength(more, font=f) > width - x - 30:
                break
            line = more
        d.text((x, y), line, fill=(20, 20, 20), font=f)
        drawn.append(line)
        y += int(font_size * 1.9) + rng.randint(0, 10)
    return img, drawn


def two_column_page(width: int = 1400, height: int = 900, *, seed: int = 0, font_size: int = 20,
                    gap: int = 80) -> tuple[Image.Image, list[str]]:
    """An article in two columns whose lines sit at the same heights side by side. The
    ground truth is the left column top to bottom, then the right one (reading order)."""
    rng = random.Random(seed)
    img = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(img)
    f = font(font_size)
    pool = EN_SENTENCES + ZH_SENTENCES
    col_w = (width - 2 * 40 - gap) // 2
    drawn: list[str] = []
    for x0 in (40, 40 + col_w + gap):
        y = 40
        while y < height - 2 * font_size:
            # Trim each sentence to the column width so columns never touch.
            line = rng.choice(pool)
            while d.textlength(line, font=f) > col_w and " " in line:
                line = line.rsplit(" ", 1)[0]
            while d.textlength(line, font=f) > col_w:
                line = line[:-1]
            d.text((x0, y), line, fill=(25, 25, 25), font=f)
            drawn.append(line)
            y += int(font_size * 1.8)
    return img, drawn


def low_contrast_text(lines: Sequence[str] | str = ("Limited offer ends Sunday", "限时优惠周日结束"), *,
                      bg: tuple = (250, 160, 40), fg: tuple = (236, 138, 22),
                      font_size: int = 30) -> tuple[Image.Image, list[str]]:
    """Text barely distinguishable from its background (orange on orange, like a banner)."""
    lines = [lines] if isinstance(lines, str) else list(lines)
    return text_image(lines, font_size=font_size, bg=bg, fg=fg, margin=24), lines


def ui_label(text: str = "Save changes", size: tuple[int, int] = (172, 22), *, font_size: int = 14,
             bg: tuple = (240, 240, 240), fg: tuple = (30, 30, 30)) -> Image.Image:
    """A small crop of a user interface: one line of UI-sized text, vertically centred."""
    img = Image.new("RGB", size, bg)
    d = ImageDraw.Draw(img)
    f = font(font_size)
    _, top, _, bottom = d.textbbox((0, 0), text, font=f)
    d.text((6, (size[1] - (bottom - top)) // 2 - top), text, fill=fg, font=f)
    return img


# --- desktop screenshots with icons -------------------------------------------------------
# Toolbar, taskbar and tray pictograms, drawn as UI kits draw them: thin outlines, grids,
# bars and filled shapes. The OCR recogniser reads many of them as CJK characters (a document
# icon as 目, a grid as 田, a chat bubble as 口, a hamburger menu as 三).
ICON_KINDS = ("square", "filled_square", "circle", "radio", "grid", "apps", "window", "arrow", "chevron", "gear",
              "signal", "menu", "folder", "document", "battery", "wifi", "plus", "close", "chat", "lock", "person",
              "search", "bell", "star", "trash", "calendar", "speaker", "home", "checkbox", "picture", "play", "cloud")
TRAY_ICON_KINDS = ("wifi", "battery", "speaker", "bell", "chevron", "cloud", "signal", "chat", "lock", "square", "grid")
# Real one-character UI labels: buttons (是 否 好), an input method's indicator (中 英 拼), tabs
# and toolbar labels (文 件 图 表 页 新 开 关 删 存 印).
SINGLE_CHAR_LABELS = "中是文件新开关删存印英拼否图表页好"
_ACCENTS = [(30, 110, 220), (0, 150, 136), (220, 90, 40), (120, 80, 200), (200, 40, 60), (90, 90, 100)]


def draw_icon(d: ImageDraw.ImageDraw, kind: str, x: int, y: int, size: int, fg: tuple, bg: tuple) -> None:
    """One ``size``-pixel pictogram of ``kind`` (see :data:`ICON_KINDS`) at ``x``, ``y``."""
    m, w = max(1, round(size * 0.12)), max(1, round(size / 12))
    x0, y0, x1, y1 = x + m, y + m, x + size - m, y + size - m
    iw, ih = x1 - x0, y1 - y0
    cx, cy, r = x + size / 2, y + size / 2, size / 2 - m

    def at(fx: float, fy: float) -> tuple[float, float]:  # a point, in fractions of the icon's inner box
        return x0 + iw * fx, y0 + ih * fy

    def box(fx0: float, fy0: float, fx1: float, fy1: float) -> list[float]:
        return [*at(fx0, fy0), *at(fx1, fy1)]

    def ring(n: int, inner: float, turn: float = 0.0) -> list[tuple[float, float]]:  # star and gear outlines
        return [(cx + (r if k % 2 == 0 else r * inner) * math.cos(turn + k * math.pi / (n / 2)),
                 cy + (r if k % 2 == 0 else r * inner) * math.sin(turn + k * math.pi / (n / 2))) for k in range(n)]

    if kind == "square":
        d.rectangle(box(0, 0, 1, 1), outline=fg, width=w)
    elif kind == "filled_square":
        d.rounded_rectangle(box(0, 0, 1, 1), radius=max(1, size // 6), fill=fg)
    elif kind in ("circle", "radio"):
        d.ellipse(box(0, 0, 1, 1), outline=fg, width=w)
        if kind == "radio":
            d.ellipse(box(0.3, 0.3, 0.7, 0.7), fill=fg)
    elif kind == "grid":  # four tiles
        for i in range(2):
            for j in range(2):
                d.rectangle(box(i * 0.55, j * 0.55, i * 0.55 + 0.45, j * 0.55 + 0.45), fill=fg)
    elif kind == "apps":  # nine dots
        for i in range(3):
            for j in range(3):
                d.ellipse(box(i / 3 + 0.05, j / 3 + 0.05, (i + 1) / 3 - 0.05, (j + 1) / 3 - 0.05), fill=fg)
    elif kind == "window":
        d.rectangle(box(0, 0, 1, 1), outline=fg, width=w)
        d.rectangle(box(0, 0, 1, 0.25), fill=fg)
    elif kind == "arrow":
        d.line([at(0.5, 0), at(0.5, 0.65)], fill=fg, width=w + 1)
        d.polygon([at(0, 0.5), at(1, 0.5), at(0.5, 1)], fill=fg)
    elif kind == "chevron":
        d.line([at(0.2, 0.35), at(0.5, 0.7), at(0.8, 0.35)], fill=fg, width=w + 1)
    elif kind == "gear":
        d.polygon(ring(16, 0.72), fill=fg)
        d.ellipse([cx - r * 0.32, cy - r * 0.32, cx + r * 0.32, cy + r * 0.32], fill=bg)
    elif kind == "signal":
        for k in range(4):
            d.rectangle(box(k / 4, 1 - (k + 1) / 4, k / 4 + 0.17, 1), fill=fg)
    elif kind == "menu":
        for k in range(3):
            d.line([at(0, 0.15 + k * 0.35), at(1, 0.15 + k * 0.35)], fill=fg, width=w + 1)
    elif kind == "folder":
        d.polygon([at(0, 0.15), at(0.4, 0.15), at(0.5, 0.3), at(1, 0.3), at(1, 0.9), at(0, 0.9)], fill=fg)
    elif kind == "document":
        d.rectangle(box(0.15, 0, 0.85, 1), outline=fg, width=w)
        for k in range(3):
            d.line([at(0.3, 0.3 + k * 0.2), at(0.7, 0.3 + k * 0.2)], fill=fg, width=w)
    elif kind == "battery":
        d.rectangle(box(0, 0.25, 0.88, 0.75), outline=fg, width=w)
        d.rectangle(box(0.88, 0.4, 1, 0.6), fill=fg)
        if ih * 0.5 > 4 * w + 1:
            d.rectangle([x0 + 2 * w, y0 + ih * 0.25 + 2 * w, x0 + iw * 0.55, y0 + ih * 0.75 - 2 * w], fill=fg)
    elif kind == "wifi":
        for k in range(3):
            rr = (k + 1) * ih / 3
            d.arc([cx - rr, y1 - rr, cx + rr, y1 + rr], 225, 315, fill=fg, width=w + 1)
    elif kind in ("plus", "close"):
        a, b = ((at(0.5, 0), at(0.5, 1)), (at(0, 0.5), at(1, 0.5))) if kind == "plus" else \
            ((at(0, 0), at(1, 1)), (at(0, 1), at(1, 0)))
        d.line(a, fill=fg, width=w + 1)
        d.line(b, fill=fg, width=w + 1)
    elif kind == "chat":
        d.rounded_rectangle(box(0, 0, 1, 0.75), radius=max(1, size // 6), outline=fg, width=w)
        d.polygon([at(0.2, 0.75), at(0.2, 1), at(0.5, 0.75)], fill=fg)
    elif kind == "lock":
        d.rectangle(box(0, 0.5, 1, 1), fill=fg)
        d.arc(box(0.2, 0, 0.8, 0.9), 180, 360, fill=fg, width=w + 1)
    elif kind == "person":
        d.ellipse(box(0.3, 0, 0.7, 0.4), fill=fg)
        d.pieslice(box(0, 0.5, 1, 1.5), 180, 360, fill=fg)
    elif kind == "search":
        d.ellipse(box(0, 0, 0.65, 0.65), outline=fg, width=w + 1)
        d.line([at(0.58, 0.58), at(1, 1)], fill=fg, width=w + 2)
    elif kind == "bell":
        d.chord(box(0.15, 0, 0.85, 1), 180, 360, fill=fg)
        d.rectangle(box(0.15, 0.5, 0.85, 0.8), fill=fg)
        d.rectangle(box(0, 0.8, 1, 0.9), fill=fg)
        d.ellipse(box(0.4, 0.88, 0.6, 1), fill=fg)
    elif kind == "star":
        d.polygon(ring(10, 0.45, -math.pi / 2), fill=fg)
    elif kind == "trash":
        d.rectangle(box(0, 0.1, 1, 0.2), fill=fg)
        d.rectangle(box(0.15, 0.25, 0.85, 1), outline=fg, width=w)
        for fx in (0.38, 0.62):
            d.line([at(fx, 0.4), at(fx, 0.88)], fill=fg, width=w)
    elif kind == "calendar":
        d.rectangle(box(0, 0.1, 1, 1), outline=fg, width=w)
        d.rectangle(box(0, 0.1, 1, 0.3), fill=fg)
        for i in range(3):
            for j in range(2):
                d.rectangle(box(0.15 + i * 0.27, 0.45 + j * 0.25, 0.3 + i * 0.27, 0.57 + j * 0.25), fill=fg)
    elif kind == "speaker":
        d.polygon([at(0, 0.35), at(0.25, 0.35), at(0.5, 0.1), at(0.5, 0.9), at(0.25, 0.65), at(0, 0.65)], fill=fg)
        d.arc(box(0.3, 0.2, 1, 0.8), 300, 60, fill=fg, width=w)
    elif kind == "home":
        d.polygon([at(0.5, 0), at(1, 0.5), at(0, 0.5)], fill=fg)
        d.rectangle(box(0.18, 0.5, 0.82, 1), fill=fg)
        d.rectangle(box(0.4, 0.7, 0.6, 1), fill=bg)
    elif kind == "checkbox":
        d.rectangle(box(0, 0, 1, 1), outline=fg, width=w)
        d.line([at(0.2, 0.5), at(0.42, 0.78), at(0.82, 0.25)], fill=fg, width=w + 1)
    elif kind == "picture":
        d.rectangle(box(0, 0, 1, 1), outline=fg, width=w)
        d.polygon([at(0.05, 0.95), at(0.4, 0.45), at(0.65, 0.7), at(0.8, 0.6), at(0.95, 0.95)], fill=fg)
        d.ellipse(box(0.65, 0.15, 0.85, 0.35), fill=fg)
    elif kind == "play":
        d.polygon([at(0.2, 0), at(1, 0.5), at(0.2, 1)], fill=fg)
    elif kind == "cloud":
        d.ellipse(box(0, 0.4, 0.45, 0.9), fill=fg)
        d.ellipse(box(0.25, 0.15, 0.85, 0.8), fill=fg)
        d.ellipse(box(0.55, 0.45, 1, 0.9), fill=fg)
    else:
        raise ValueError(f"unknown icon kind {kind!r}")


def desktop_screenshot(width: int = 1600, height: int = 900, *, seed: int = 0,
                       lang: str = "en") -> tuple[Image.Image, dict[str, list]]:
    """A desktop: a toolbar of icons (some with labels, some labelled with one CJK character),
    a page of text (:func:`screenshot_like`), a taskbar with app and tray icons, a clock and
    sometimes an input method's indicator (中, 英, 拼), sometimes a dialog with one-character
    buttons (是, 否, 好) and single-character tabs. Light or dark bars.

    Returns the image and its ground truth: ``lines`` (the page's text), ``chars`` (each real
    one-character label: (character, (x0, y0, x1, y1))), ``words`` (the toolbar's longer labels,
    (text, box)) and ``icons`` ((kind, box))."""
    rng = random.Random(seed)
    dark = rng.random() < 0.35
    bar, ink = ((32, 33, 36), (225, 225, 225)) if dark else ((235, 236, 239), (30, 30, 30))
    img = Image.new("RGB", (width, height), bar)
    page, lines = screenshot_like(width, height - 84, lang=lang, seed=seed)
    img.paste(page, (0, 44))
    d = ImageDraw.Draw(img)
    Box = tuple[float, float, float, float]
    chars: list[tuple[str, Box]] = []
    words: list[tuple[str, Box]] = []
    icons: list[tuple[str, Box]] = []
    labels = {"en": ("Save", "Open", "Share", "Print", "Undo", "Export", "Find"),
              "zh": ("保存", "打开", "分享", "打印")}

    def icon(kind: str, x: int, y: int, size: int, fg: tuple, bg: tuple) -> None:
        draw_icon(d, kind, x, y, size, fg, bg)
        icons.append((kind, (x, y, x + size, y + size)))

    def char(ch: str, x: float, y: float, fill: tuple, size: int, anchor: str = "lm") -> Box:
        f = font(size)
        bbox = d.textbbox((x, y), ch, font=f, anchor=anchor)
        d.text((x, y), ch, fill=fill, font=f, anchor=anchor)
        chars.append((ch, bbox))
        return bbox

    # The toolbar: icons, a fifth of them labelled with a word, a sixth with one character.
    x, size = 10, rng.choice((16, 18, 20, 24))
    while x < width - 160:
        fg = ink if rng.random() < 0.5 else rng.choice(_ACCENTS)
        icon(rng.choice(ICON_KINDS), x, (44 - size) // 2, size, fg, bar)
        x += size
        p = rng.random()
        if p < 0.2:
            x += rng.choice((4, 6, 8))
            f = font(rng.choice((13, 14, 15)))
            label = rng.choice(labels["zh" if lang == "zh" else "en"])
            d.text((x, 22), label, fill=ink, font=f, anchor="lm")
            words.append((label, d.textbbox((x, 22), label, font=f, anchor="lm")))
            x = int(words[-1][1][2])
        elif p < 0.37:
            x = int(char(rng.choice(SINGLE_CHAR_LABELS), x + rng.choice((5, 8, 12)), 22,
                         ink if rng.random() < 0.8 else rng.choice(_ACCENTS), rng.choice((12, 13, 14, 15, 16)))[2])
        x += rng.choice((10, 14, 18, 24))
    # Single-character tabs in the page's header, now and then.
    if rng.random() < 0.5:
        tx, tab_size = width - 260, rng.choice((13, 14, 16))
        for ch in rng.sample(SINGLE_CHAR_LABELS, 3):
            d.rounded_rectangle([tx, 50, tx + 40, 76], radius=4, fill=(225, 228, 235), outline=(180, 184, 190))
            char(ch, tx + 20, 63, (40, 40, 40), tab_size, "mm")
            tx += 48
    # The taskbar: app icons on the left; tray icons, the input method and the clock on the right.
    top = height - 40
    task_bg = (20, 24, 30) if rng.random() < 0.6 else (225, 228, 232)
    task_ink = (235, 235, 235) if task_bg[0] < 100 else (40, 40, 40)
    d.rectangle([0, top, width, height], fill=task_bg)
    x = 12
    for _ in range(rng.randint(4, 8)):
        icon(rng.choice(ICON_KINDS), x, top + 8, 24, rng.choice([*_ACCENTS, task_ink]), task_bg)
        x += 40
    x = width - 300
    for _ in range(rng.randint(3, 6)):
        icon(rng.choice(TRAY_ICON_KINDS), x, top + 12, 16, task_ink, task_bg)
        x += 28
    if rng.random() < 0.6:
        char(rng.choice("中英拼"), x + 6, top + 20, task_ink, rng.choice((14, 15, 16)))
    d.text((width - 80, top + 20), f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}", fill=task_ink,
           font=font(13), anchor="lm")
    # A dialog with one-character buttons, now and then.
    if rng.random() < 0.5:
        bx, by = rng.randint(300, width - 300), rng.randint(200, height - 200)
        d.rectangle([bx, by, bx + 260, by + 110], fill=(250, 250, 250), outline=(160, 160, 160))
        question = "Delete this file?" if lang == "en" else "删除此文件？"
        d.text((bx + 16, by + 14), question, fill=(20, 20, 20), font=font(15))
        for i, ch in enumerate(rng.sample("是否好", 2)):
            x0 = bx + 60 + i * 90
            d.rounded_rectangle([x0, by + 60, x0 + 64, by + 92], radius=4, fill=(230, 232, 236),
                                outline=(150, 150, 150))
            char(ch, x0 + 32, by + 76, (20, 20, 20), 15, "mm")
    return img, {"lines": lines, "chars": chars, "words": words, "icons": icons}


def photo_like(width: int = 800, height: int = 600, *, seed: int = 0) -> Image.Image:
    """A text-free picture: a gradient sky, hills and blobs, lightly blurred."""
    rng = random.Random(seed)
    img = Image.new("RGB", (width, height))
    d = ImageDraw.Draw(img)
    top = (rng.randint(60, 140), rng.randint(120, 190), rng.randint(200, 255))
    bottom = (rng.randint(180, 255), rng.randint(170, 230), rng.randint(120, 200))
    for yy in range(height):
        t = yy / max(height - 1, 1)
        d.line([(0, yy), (width, yy)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
    for _ in range(rng.randint(3, 7)):
        cx, cy, r = rng.randint(0, width), rng.randint(height // 2, height), rng.randint(60, 260)
        d.ellipse([cx - r, cy - r, cx + r, cy + r],
                  fill=(rng.randint(20, 90), rng.randint(90, 160), rng.randint(20, 80)))
    return img.filter(ImageFilter.GaussianBlur(2))


def write_sample_set(folder: Path, *, screenshots: int = 4, photos: int = 2, notes: bool = True) -> list[Path]:
    """A small, varied folder of images for demos and tests."""
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    for i in range(screenshots):
        img, _ = screenshot_like(1280, 720, lang=("en", "zh", "mixed")[i % 3], seed=i)
        p = folder / f"screenshot_{i + 1:02d}.png"
        img.save(p)
        out.append(p)
    for i in range(photos):
        p = folder / f"photo_{i + 1:02d}.jpg"
        photo_like(seed=100 + i).save(p, quality=88)
        out.append(p)
    if notes:
        pairs = [("note_dog.png", ["图片中有一只小狗站在雪地上", "A small dog stands in the snow"]),
                 ("note_invoice.png", ["Invoice 2024-0193", "Total due: 42.50 EUR", "发票 应付金额"]),
                 ("note_error.png", ["Error: connection refused", "数据库连接失败"])]
        for name, lines in pairs:
            p = folder / name
            text_image(lines, font_size=34).save(p)
            out.append(p)
    return out


# --- awkward inputs: what real folders contain besides clean images ---------------------
def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` (a decompression bomb's shape:
    the IDAT holds one row; a decoder that trusted the header would allocate it all)."""
    import struct
    import zlib

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1)))
            + chunk(b"IEND", b""))


def encoded(img: Image.Image, fmt: str, **save_kw) -> bytes:
    import io

    buf = io.BytesIO()
    img.save(buf, fmt, **save_kw)
    return buf.getvalue()


def exif_rotated_jpeg(orientation: int = 6, taken: str | None = "2021:02:03 04:05:06",
                      offset: str | None = None) -> bytes:
    """An 80x40 JPEG stored sideways: left half red, right half blue, with EXIF
    ``orientation`` (6 = rotate 90° clockwise to view, so red ends up on top), capture
    time ``taken`` and its UTC ``offset`` (e.g. "+08:00")."""
    img = Image.new("RGB", (80, 40), (220, 20, 20))
    img.paste((20, 20, 220), (40, 0, 80, 40))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x0132] = "2030:01:01 00:00:00"  # DateTime: when an editor last saved it, not the capture
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
    if offset:
        exif.get_ifd(0x8769)[0x9011] = offset
    return encoded(img, "JPEG", quality=95, exif=exif.tobytes())


def animated_gif(colors=((255, 0, 0), (0, 255, 0), (0, 0, 255)), size=(48, 32)) -> bytes:
    frames = [Image.new("RGB", size, c) for c in colors]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def png16_gradient(width: int = 256, height: int = 8) -> bytes:
    """A 16-bit greyscale PNG: column x holds x * 257 (0 … 65535)."""
    img = Image.new("I;16", (width, height))
    img.putdata([x * 65535 // (width - 1) for _ in range(height) for x in range(width)])
    return encoded(img, "PNG")


def write_bad_inputs(folder: Path) -> dict[str, Path]:
    """One file per way an "image" can be broken, keyed by the error code vlagent gives it."""
    folder.mkdir(parents=True, exist_ok=True)
    photo_png = encoded(photo_like(400, 300, seed=7), "PNG")
    photo_jpg = encoded(photo_like(400, 300, seed=8), "JPEG", quality=90)
    files = {
        "empty": (folder / "empty.png", b""),
        "truncated_png": (folder / "truncated.png", photo_png[: len(photo_png) // 2]),
        "truncated_jpeg": (folder / "truncated.jpg", photo_jpg[: len(photo_jpg) // 2]),
        "not_an_image": (folder / "notes.png", "这不是图片 — just some text\n".encode()),
        "bomb": (folder / "bomb.png", png_declaring(30000, 30000)),
    }
    out = {}
    for key, (path, data) in files.items():
        path.write_bytes(data)
        out[key] = path
    return out


# --- a memory corpus: records of "seen" screenshots with planted facts (no pixels) ----------------

MEMORY_FILLER_EN = ("settings window terminal build log project report meeting notes calendar budget email inbox draft "
                    "chart sales server deploy python error warning update download folder invoice total order "
                    "payment receipt password login account flight booking release version port database").split()
MEMORY_FILLER_ZH = list("设置窗口终端构建日志项目报告会议记录日历预算"
                        "邮件收件箱草稿图表销售服务器部署错误警告更新"
                        "下载文件夹发票订单支付收据密码登录账户航班预订"
                        "发布版本端口数据库")
# (days before "now", source, on-screen text, question, distractor texts seen at other times)
MEMORY_FACTS: list[tuple[float, str, str, str, list[tuple[float, str]]]] = [
    (6, "screenshot", "ACME Corp Invoice #4471 Total due: $1,284.50",
     "what was the total on the ACME invoice last week?",
     [(40, "ACME Corp Invoice #4102 Total due: $980.00"), (75, "ACME Corp Invoice #3990 Total due: $1,020.00")]),
    (8, "screenshot", "Error: connect ECONNREFUSED 127.0.0.1:5432 数据库连接失败 端口 5432",
     "上周那个报错截图里的端口号是多少?",
     [(30, "数据库连接失败 端口 3306 Error: connect ECONNREFUSED"), (2, "服务器报错 端口 8080 被占用")]),
    (3, "folder", "Quarterly sales chart Q3 blue bars revenue 2.4M",
     "when did I last see the blue chart?", [(50, "Quarterly sales chart Q2 blue bars revenue 2.1M")]),
    (65, "import", "Flight booking confirmation 航班 CA1831 北京 上海",
     "10月订的航班是哪一班?", [(15, "Flight booking confirmation 航班 MU5101 上海 北京")]),
    (1, "screenshot", "Wi-Fi password: tulip-garden-42",
     "what was the wifi password yesterday?", [(20, "Wi-Fi password: old-router-17")]),
    (3, "screenshot", "会议纪要 周五 发布 新版本 v2.3",
     "三天前的会议纪要说哪天发布?", [(12, "会议纪要 周三 评审 设计稿")]),
    (2, "screenshot", "Pull request #812 merged: fix memory leak in parser",
     "前天合并的 pull request 修了什么?", [(33, "Pull request #640 merged: add CSV export")]),
    (14, "folder", "体检报告 血压 118/76 心率 72",
     "两周前的体检报告里血压是多少?", [(200, "体检报告 血压 125/82 心率 80")]),
    (0.2, "screenshot", "Tracking number 1Z999AA10123456784 UPS delivery Friday",
     "what is the tracking number from today?", [(9, "Tracking number 1Z111BB20987654321 UPS delivered")]),
    (25, "import", "Lease agreement monthly rent 3,200 RMB 租金 每月",
     "last month what was the rent in the lease?", [(90, "Lease agreement monthly rent 2,900 RMB 租金")]),
]


def memory_corpus(index, n: int, *, now: float, seed: int = 0, days: float = 180.0) -> dict[str, int]:
    """Fill ``index`` with ``n`` records of generated screenshots seen over ``days`` before ``now``
    (OCR text only, no files), plus :data:`MEMORY_FACTS` and their distractors; returns
    question → the id of the image that answers it."""
    import hashlib

    from vlagent.index.store import Result

    rnd = random.Random(seed)
    answers: dict[str, int] = {}

    def add(key: str, text: str, seen: float, source: str) -> int:
        sha = hashlib.sha256(key.encode()).hexdigest()
        iid, _ = index.add_image(sha256=sha, width=1920, height=1080, format="PNG", bytes=250_000, mtime=seen,
                                 source=source, first_seen=seen)
        index.set_location(iid, f"/home/user/Pictures/{key}.png", size=250_000, mtime=seen)
        index.add_result(iid, Result(kind="ocr", text=text, engine="rapidocr"))
        return iid

    with index.transaction():
        for i in range(n):
            seen = now - rnd.uniform(0, days) * 86400
            if rnd.random() < 0.5:
                text = " ".join(rnd.choice(MEMORY_FILLER_EN) for _ in range(rnd.randint(8, 30)))
            else:
                text = "".join(rnd.choice(MEMORY_FILLER_ZH) for _ in range(rnd.randint(10, 40)))
            add(f"shot-{seed}-{i}", text, seen, rnd.choice(["folder", "screenshot", "import"]))
        for j, (ago, source, text, question, distractors) in enumerate(MEMORY_FACTS):
            answers[question] = add(f"fact-{seed}-{j}", text, now - ago * 86400, source)
            for k, (d_ago, d_text) in enumerate(distractors):
                add(f"distractor-{seed}-{j}-{k}", d_text, now - d_ago * 86400, source)
    return answers
