"""Generated sample images: text in English and Chinese, screenshot-like pages, photos
without text. Used by ``vlagent demo``, the tests and the benchmarks."""

from __future__ import annotations

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
