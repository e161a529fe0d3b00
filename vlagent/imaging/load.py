"""Safe image loading from a path, raw bytes, base64, a ``data:`` URL or an http(s) URL.

Every image that enters vlagent comes through here: byte and pixel limits are checked
from the header before anything is decoded (decompression bombs), and so is whether the
file can hold the pixels it claims (:mod:`vlagent.imaging.plausible`); EXIF orientation is
applied, any mode is converted to 8-bit RGB (transparency flattened onto white, or onto
black behind light content such as white text: :func:`flatten`), and animated images give
their first frame. Failures raise the typed errors of :mod:`vlagent.imaging.errors`.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import io
import logging
import os
import re
import stat
import struct
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from vlagent.imaging.errors import (
    AccessDenied,
    BadInput,
    CorruptImage,
    EmptyFile,
    FileVanished,
    NotAnImage,
    TooLarge,
    TooManyPixels,
    Unsupported,
)
from vlagent.imaging.formats import register_plugins
from vlagent.imaging.plausible import least_bytes

if TYPE_CHECKING:
    from vlagent.settings import Settings

log = logging.getLogger(__name__)

EXIF_ORIENTATION = 0x0112
EXIF_IFD = 0x8769
EXIF_DATETIME_ORIGINAL, EXIF_DATETIME_DIGITIZED = 0x9003, 0x9004
EXIF_OFFSET_ORIGINAL, EXIF_OFFSET_DIGITIZED = 0x9011, 0x9012
# EXIF orientation → the transpose that shows the picture upright.
ORIENTATION_FIX = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Our own, configurable pixel limit decides (checked from the header, before decoding); PIL's
# fixed one would only warn. Set once here: catch_warnings() is not safe across the ingest threads.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
register_plugins()  # HEIC/HEIF (pillow-heif), AVIF (pillow-avif-plugin) when installed
# What PIL raises on broken data, besides its own OSError subclasses.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, ZeroDivisionError,
                  KeyError, struct.error)

# Modes Image.reduce handles directly (8-bit bands, or one 32-bit band).
_REDUCIBLE_MODES = ("RGB", "RGBA", "L", "LA", "CMYK", "I", "F")
_ALPHA_MODES = ("RGBA", "LA", "RGBa", "La", "PA")
# Transparency is flattened this many pixels (a strip of whole rows) at a time: 16 MB of RGBA.
_STRIP_PIXELS = 1 << 22
# The outline of a transparent image's content is "light" (so it goes on black) above this
# brightness, of 255: 60%. Mid tones stay on white, as they always were.
_LIGHT_OUTLINE = 153
_CLEAR_ALPHA = 8  # a pixel this transparent is background (exporters leave stray alphas of 1–2)


@dataclass(frozen=True)
class Limits:
    max_pixels: int = 120_000_000
    max_bytes: int = 200 * 1024 * 1024
    url_timeout: float = 15.0
    url_max_bytes: int = 50 * 1024 * 1024
    allowed_schemes: tuple[str, ...] = ("http", "https")
    allow_private_urls: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        ingest, net = settings.view.ingest, settings.view.net
        return cls(
            max_pixels=ingest.max_image_pixels,
            max_bytes=ingest.max_image_bytes,
            url_timeout=net.url_timeout,
            url_max_bytes=net.url_max_bytes,
            allowed_schemes=tuple(s.lower() for s in net.allowed_schemes),
            allow_private_urls=net.allow_private_urls,
        )


@dataclass
class LoadedImage:
    image: Image.Image  # RGB, upright, first frame (reduced when loaded with ``reduce_to``)
    data: bytes  # the original encoded bytes
    sha256: str
    format: str | None  # PIL format name (PNG, JPEG, …)
    width: int  # the full upright size, even when ``image`` was reduced
    height: int
    mode: str  # the original mode, before conversion
    frames: int = 1
    taken_at: float | None = None  # EXIF DateTimeOriginal, epoch seconds (local time)
    name: str | None = None
    notes: list[str] = field(default_factory=list)


def read_file(path: str | os.PathLike, limits: Limits = Limits()) -> bytes:
    """Read an image file's bytes with clear errors for the ways that fails."""
    p = Path(path)
    try:
        # O_NONBLOCK: a FIFO named like an image must not hang us; it is refused below.
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                what = "is a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
                raise NotAnImage(f"{p}: {what}", source=str(p))
            if st.st_size > limits.max_bytes:
                raise TooLarge(f"{p}: {st.st_size:,} bytes is over the limit of {limits.max_bytes:,}", source=str(p))
            f = open(fd, "rb")  # noqa: SIM115 - takes fd over inside this try (fd is closed if it fails); `with f` below
        except BaseException:
            os.close(fd)
            raise
        with f:
            data = f.read(limits.max_bytes + 1)
    except FileNotFoundError:
        raise FileVanished(f"{p}: no such file (moved or deleted?)", source=str(p)) from None
    except PermissionError:
        raise AccessDenied(f"{p}: permission denied", source=str(p)) from None
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ESTALE):
            raise FileVanished(f"{p}: the file disappeared while reading", source=str(p)) from None
        raise CorruptImage(f"{p}: could not be read ({e.strerror or e})", source=str(p)) from None
    if len(data) > limits.max_bytes:  # it grew while we read it
        raise TooLarge(f"{p}: larger than the limit of {limits.max_bytes:,} bytes", source=str(p))
    return data


def load_path(path: str | os.PathLike, limits: Limits = Limits(), *, reduce_to: int | None = None) -> LoadedImage:
    return load_bytes(read_file(path, limits), limits, name=str(path), reduce_to=reduce_to)


def load_bytes(data: bytes, limits: Limits = Limits(), *, name: str | None = None, sha256: str | None = None,
               reduce_to: int | None = None) -> LoadedImage:
    """Decode and validate image bytes.

    ``reduce_to``: the caller only needs an image whose longest side is at least this
    (a thumbnail): JPEGs are then decoded at 1/2–1/8 scale by the DCT and other formats
    reduced by an integer factor, which is much faster than a full-size RGB image. All
    data is still decoded, so truncation is still caught. ``sha256`` skips re-hashing.
    """
    label = name or "image"
    if not data:
        raise EmptyFile(f"{label}: the file is empty (0 bytes)", source=name)
    if len(data) > limits.max_bytes:
        raise TooLarge(f"{label}: {len(data):,} bytes is over the limit of {limits.max_bytes:,}", source=name)
    img = _open_checked(data, label, name, limits)
    fmt, mode = img.format, img.mode
    w, h = img.size
    try:
        frames = int(getattr(img, "n_frames", 1) or 1)
        if frames > 1:
            img.seek(0)
    except _DECODE_ERRORS:
        frames = 1
    try:
        if reduce_to and fmt == "JPEG":
            scale = reduce_to / max(w, h)
            if scale < 0.5:
                img.draft(None, (max(1, int(w * scale + 0.999)), max(1, int(h * scale + 0.999))))
        img.load()
        # EXIF only now: for a PNG, getexif() loads the pixels itself, and a load that failed
        # there (a truncated file) left PIL half set up, so the load above then failed with an
        # internal TypeError instead of "image file is truncated".
        exif = _exif(img)
        orientation = exif.get(EXIF_ORIENTATION) if exif is not None else None
        if reduce_to:
            # Transparency's background is picked from the full image: a thumbnail shows what OCR reads.
            background = flatten_background(img) if has_alpha(img) else None
            rgb = to_rgb(_reduce(img, reduce_to, background), background)
        else:
            rgb = to_rgb(img)
        if orientation in ORIENTATION_FIX:
            rgb = rgb.transpose(ORIENTATION_FIX[orientation])
    except Image.DecompressionBombError as e:
        raise TooManyPixels(f"{label}: refused as a possible decompression bomb ({e})", source=name) from None
    except MemoryError:
        raise TooManyPixels(f"{label}: not enough memory to decode {w}x{h} pixels", source=name) from None
    except Unsupported as e:
        raise Unsupported(f"{label}: {e}", source=name) from None
    except _DECODE_ERRORS as e:
        raise CorruptImage(f"{label}: {_decode_failure(e)}", source=name) from None
    if orientation in (5, 6, 7, 8):
        w, h = h, w
    return LoadedImage(
        image=rgb, data=data, sha256=sha256 or hashlib.sha256(data).hexdigest(), format=fmt,
        width=w, height=h, mode=mode, frames=frames, taken_at=_taken_at(exif), name=name,
    )


def _decode_failure(e: BaseException, what: str = "image data") -> str:
    """Why the pixels (or the header) could not be decoded, in the file's terms. PIL's own errors (OSError,
    SyntaxError, EOFError) say something about the file; anything else (TypeError, IndexError,
    struct.error, ...) is a decoder tripping over bad data, and its text would only confuse."""
    msg = str(e)
    if isinstance(e, EOFError) or "truncated" in msg.lower():
        return f"truncated {what} ({msg or 'the data ends early'})"
    if isinstance(e, (OSError, SyntaxError)) and msg:
        return f"truncated or corrupt {what} ({msg})"
    log.debug("decoder error: %r", e)
    return f"truncated or corrupt {what}"


def _open_checked(data: bytes, label: str, name: str | None, limits: Limits) -> Image.Image:
    """Parse the header only, and refuse what is too big before any pixel is decoded."""
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        # PIL's hard stop (twice its MAX_IMAGE_PIXELS) fired before we could look.
        raise TooManyPixels(f"{label}: refused as a possible decompression bomb ({e})", source=name) from None
    except UnidentifiedImageError:
        raise NotAnImage(f"{label}: not an image file (unrecognised format{_sniff(data)})", source=name) from None
    except _DECODE_ERRORS as e:
        raise CorruptImage(f"{label}: {_decode_failure(e, 'image header')}", source=name) from None
    w, h = img.size
    if w <= 0 or h <= 0:
        raise CorruptImage(f"{label}: image has no pixels ({w}x{h})", source=name)
    if w * h > limits.max_pixels:
        raise TooManyPixels(
            f"{label}: {w}x{h} = {w * h:,} pixels is over the limit of {limits.max_pixels:,} "
            "(possible decompression bomb)", source=name)
    least = least_bytes(img.format, data)
    if least is not None and len(data) < least:
        # The decoder would fill in what is missing without a word: refused, not indexed as
        # a picture that is mostly made up.
        raise CorruptImage(
            f"{label}: truncated image data: {len(data):,} bytes cannot hold {w}x{h} pixels "
            f"(a {img.format} that size needs at least {least:,}; possible decompression bomb)", source=name)
    return img


def _reduce(img: Image.Image, target: int, background: tuple[int, int, int] | None = None) -> Image.Image:
    """Shrink by an integer factor (fast box filter), keeping the longest side ≥ ``target``."""
    factor = max(img.size) // target
    if factor < 2:
        return img
    if img.mode not in _REDUCIBLE_MODES:
        img = to_rgb(img, background)
    return img.reduce(factor)


def to_rgb(img: Image.Image, background: tuple[int, int, int] | None = None) -> Image.Image:
    """Any PIL mode to 8-bit RGB: transparency flattened (:func:`flatten`, onto ``background``
    when given), high bit depths scaled down."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _scale_to_8bit(img).convert("RGB")
    if has_alpha(img):
        return flatten(img, background)
    try:
        return img.convert("RGB")  # 1, L, CMYK, YCbCr, …
    except ValueError:  # e.g. LAB, or a mode PIL can read but not convert
        raise Unsupported(f"colour mode {mode} is not supported") from None


def has_alpha(img: Image.Image) -> bool:
    return img.mode in _ALPHA_MODES or (img.mode == "P" and "transparency" in img.info)


def flatten(img: Image.Image, background: tuple[int, int, int] | None = None) -> Image.Image:
    """A transparent image composited onto a plain background: ``background``, else the one
    :func:`flatten_background` picks. Done a strip of rows at a time, so a huge image costs
    its RGB result and a strip, not several full-size RGBA copies."""
    out = Image.new("RGB", img.size, background or flatten_background(img))
    for box in _strips(img):
        part = img.crop(box).convert("RGBA")
        out.paste(part, box, part)  # blended by its own alpha
    return out


def flatten_background(img: Image.Image) -> tuple[int, int, int]:
    """What the clear areas of a transparent image should show: white, like paper, unless
    what borders them is light — white text, a light logo or UI element exported on a
    transparent background, which would vanish on white — then black.

    "What borders them" is the outer edge of the visible content: the visible pixels next to
    a clear one, each weighing its alpha. The inside of a window or a photo does not count,
    and a window's drop shadow, dark, is its outer edge: it stays on white."""
    import numpy as np

    total = weight = 0
    h = img.height
    for x0, y0, x1, y1 in _strips(img):
        # One row more each side, so the edges between strips count; those rows are the
        # neighbours' own and weigh nothing here.
        top, bottom = max(0, y0 - 1), min(h, y1 + 1)
        part = img.crop((x0, top, x1, bottom)).convert("RGBA")
        alpha = np.asarray(part.getchannel("A"))
        clear = alpha <= _CLEAR_ALPHA
        if not clear.any():
            continue
        near_clear = np.zeros_like(clear)
        near_clear[:, 1:] |= clear[:, :-1]
        near_clear[:, :-1] |= clear[:, 1:]
        near_clear[1:] |= clear[:-1]
        near_clear[:-1] |= clear[1:]
        edge = np.where(near_clear & ~clear, alpha, 0).astype(np.int32)
        edge[: y0 - top] = 0
        edge[edge.shape[0] - (bottom - y1):] = 0
        luma = np.asarray(part.convert("L"), dtype=np.int32)
        total += int((edge * luma).sum(dtype=np.int64))
        weight += int(edge.sum(dtype=np.int64))
    if weight and total / weight > _LIGHT_OUTLINE:
        return (0, 0, 0)
    return (255, 255, 255)


def _strips(img: Image.Image):
    """Boxes of whole rows, about ``_STRIP_PIXELS`` each, covering the image."""
    rows = max(1, _STRIP_PIXELS // max(1, img.width))
    for y in range(0, img.height, rows):
        yield 0, y, img.width, min(img.height, y + rows)


def _scale_to_8bit(img: Image.Image) -> Image.Image:
    import numpy as np

    arr = np.asarray(img, dtype=np.float64)
    if img.mode.startswith("I;16"):
        lo, hi = 0.0, 65535.0
    else:
        finite = arr[np.isfinite(arr)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        if img.mode == "I" and lo >= 0 and hi <= 255:
            lo, hi = 0.0, 255.0
        elif img.mode == "I" and lo >= 0 and hi <= 65535:
            lo, hi = 0.0, 65535.0
    if hi <= lo:
        out = np.zeros(arr.shape, dtype=np.uint8)
    else:
        scaled = (np.nan_to_num(arr, nan=lo, posinf=hi, neginf=lo) - lo) * (255.0 / (hi - lo))
        out = np.clip(scaled, 0, 255).round().astype(np.uint8)
    return Image.fromarray(out, "L")


def _exif(img: Image.Image):
    try:
        return img.getexif()
    except Exception:  # EXIF in the wild is messy; a broken block must not lose the image.
        return None


def _taken_at(exif) -> float | None:
    """When the picture was taken (DateTimeOriginal, else DateTimeDigitized), as epoch
    seconds: with its EXIF UTC offset when recorded, else in local time. Not DateTime
    (0x0132): editors rewrite that one."""
    if exif is None:
        return None
    try:
        ifd = exif.get_ifd(EXIF_IFD)
        for tag, offset_tag in ((EXIF_DATETIME_ORIGINAL, EXIF_OFFSET_ORIGINAL),
                                (EXIF_DATETIME_DIGITIZED, EXIF_OFFSET_DIGITIZED)):
            raw = _text(ifd.get(tag))
            if not raw:
                continue
            when = datetime.strptime(raw[:19], "%Y:%m:%d %H:%M:%S")
            offset = _text(ifd.get(offset_tag))
            if re.fullmatch(r"[+-]\d\d:\d\d", offset):
                when = datetime.strptime(raw[:19] + offset.replace(":", ""), "%Y:%m:%d %H:%M:%S%z")
            return when.timestamp()
    except Exception:  # a malformed date is not an error
        return None
    return None


def _text(value) -> str:
    if value is None:
        return ""
    text = value.decode("ascii", "ignore") if isinstance(value, bytes) else str(value)
    return text.strip("\x00 ")


def _sniff(data: bytes) -> str:
    head = data[:64]
    if head.lstrip()[:1] in (b"{", b"[", b"<"):
        return "; it looks like text/markup"
    try:
        head.decode("utf-8")
        return "; it looks like a text file"
    except UnicodeDecodeError:
        return ""


# --- base64 and data: URLs -----------------------------------------------------------
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w-]+=[^;,]*)*)(?P<b64>;base64)?,", re.I)
_B64_TEXT = re.compile(r"[A-Za-z0-9+/=_\-\s]+")


def decode_base64(text: str, limits: Limits = Limits()) -> bytes:
    cleaned = re.sub(r"\s+", "", text)
    if len(cleaned) * 3 // 4 > limits.max_bytes:
        raise TooLarge(f"base64 input is over the limit of {limits.max_bytes:,} bytes")
    padded = cleaned + "=" * (-len(cleaned) % 4)
    try:
        if "-" in cleaned or "_" in cleaned:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise BadInput("input is not valid base64") from None


def decode_data_url(url: str, limits: Limits = Limits()) -> bytes:
    m = _DATA_URL.match(url)
    if not m:
        raise BadInput("malformed data: URL (expected data:image/...;base64,...)")
    mime = (m.group("mime") or "").lower()
    if mime and not mime.startswith("image/") and mime != "application/octet-stream":
        raise NotAnImage(f"data: URL has media type {mime!r}, not an image")
    payload = url[m.end():]
    if m.group("b64"):
        return decode_base64(payload, limits)
    from urllib.parse import unquote_to_bytes

    data = unquote_to_bytes(payload)
    if len(data) > limits.max_bytes:
        raise TooLarge(f"data: URL is over the limit of {limits.max_bytes:,} bytes")
    return data


def load_url(url: str, limits: Limits = Limits()) -> LoadedImage:
    """A ``data:`` URL, or a ``scheme://`` URL fetched when ``limits`` allow its scheme."""
    if url[:5].lower() == "data:":
        return load_bytes(decode_data_url(url, limits), limits, name="data: URL")
    from vlagent.imaging.fetch import fetch_url

    return load_bytes(fetch_url(url, limits), limits, name=url)


def load_any(source: str | bytes | os.PathLike, limits: Limits = Limits()) -> LoadedImage:
    """Load from whatever a user or API client handed us.

    bytes → raw image bytes; ``data:`` → data URL; ``scheme://`` → fetched when the scheme
    is allowed (http/https by default; ``file://`` and others are refused); an existing
    file → read; text made of base64 characters → decoded; anything else → a path that
    does not exist.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return load_bytes(bytes(source), limits)
    if isinstance(source, os.PathLike):
        return load_path(source, limits)
    if not isinstance(source, str):
        raise BadInput(f"cannot load an image from a {type(source).__name__}")
    text = source.strip()
    if not text:
        raise BadInput("empty image input")
    if text[:5].lower() == "data:" or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text):
        return load_url(text, limits)
    # A short base64 string can contain "/" and so look like a path: a file that exists
    # wins, then anything that decodes as base64, and only then is it a missing path.
    looks_b64 = len(text) >= 16 and _B64_TEXT.fullmatch(text) is not None
    if (len(text) < 4096 or not looks_b64) and os.path.exists(os.path.expanduser(text)):
        return load_path(os.path.expanduser(text), limits)
    if looks_b64:
        try:
            data = decode_base64(text, limits)
        except BadInput:
            data = b""
        if data:
            return load_bytes(data, limits, name="base64 input")
    if len(text) < 4096 and "\n" not in text:
        raise FileVanished(f"{text}: no such file (and not a URL, data: URL or base64 image)", source=text)
    raise BadInput("not a path, URL, data: URL or base64 image")
