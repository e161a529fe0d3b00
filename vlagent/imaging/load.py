"""Safe image loading from a path, raw bytes, base64, a ``data:`` URL or an http(s) URL.

Every image that enters vlagent comes through here: size limits are checked before
decoding (decompression bombs), EXIF orientation is applied, any mode is converted to
8-bit RGB, and animated images give their first frame. Failures raise the typed errors
of :mod:`vlagent.imaging.errors`.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import io
import os
import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from vlagent.imaging.errors import (
    AccessDenied,
    BadInput,
    CorruptImage,
    EmptyFile,
    FileVanished,
    NotAnImage,
    TooLarge,
    TooManyPixels,
)

EXIF_DATETIME_ORIGINAL = 0x9003
EXIF_IFD = 0x8769


@dataclass(frozen=True)
class Limits:
    max_pixels: int = 120_000_000
    max_bytes: int = 200 * 1024 * 1024
    url_timeout: float = 15.0
    url_max_bytes: int = 50 * 1024 * 1024
    allowed_schemes: tuple[str, ...] = ("http", "https")
    allow_private_urls: bool = False

    @classmethod
    def from_settings(cls, settings) -> "Limits":
        return cls(
            max_pixels=settings.get("ingest.max_image_pixels"),
            max_bytes=settings.get("ingest.max_image_bytes"),
            url_timeout=settings.get("net.url_timeout"),
            url_max_bytes=settings.get("net.url_max_bytes"),
            allowed_schemes=tuple(s.lower() for s in settings.get("net.allowed_schemes")),
            allow_private_urls=settings.get("net.allow_private_urls"),
        )


@dataclass
class LoadedImage:
    image: Image.Image  # RGB, EXIF orientation applied, first frame
    data: bytes  # the original encoded bytes
    sha256: str
    format: str | None  # PIL format name (PNG, JPEG, …)
    width: int
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
        with open(p, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limits.max_bytes:
                raise TooLarge(f"{p.name}: {size:,} bytes is over the limit of {limits.max_bytes:,}", source=str(p))
            data = f.read(limits.max_bytes + 1)
    except FileNotFoundError:
        raise FileVanished(f"{p}: the file no longer exists", source=str(p)) from None
    except PermissionError:
        raise AccessDenied(f"{p}: permission denied", source=str(p)) from None
    except IsADirectoryError:
        raise NotAnImage(f"{p}: is a directory", source=str(p)) from None
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ESTALE):
            raise FileVanished(f"{p}: the file disappeared while reading", source=str(p)) from None
        raise CorruptImage(f"{p}: could not be read ({e.strerror or e})", source=str(p)) from None
    if len(data) > limits.max_bytes:
        raise TooLarge(f"{p.name}: larger than the limit of {limits.max_bytes:,} bytes", source=str(p))
    return data


def load_path(path: str | os.PathLike, limits: Limits = Limits()) -> LoadedImage:
    data = read_file(path, limits)
    return load_bytes(data, limits, name=str(path))


def load_bytes(data: bytes, limits: Limits = Limits(), *, name: str | None = None) -> LoadedImage:
    label = name or "image"
    if not data:
        raise EmptyFile(f"{label}: the file is empty (0 bytes)", source=name)
    if len(data) > limits.max_bytes:
        raise TooLarge(f"{label}: {len(data):,} bytes is over the limit of {limits.max_bytes:,}", source=name)
    try:
        with warnings.catch_warnings():
            # Our own pixel limit decides; PIL's global default would only warn.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        raise TooManyPixels(f"{label}: refused as a possible decompression bomb ({e})", source=name) from None
    except UnidentifiedImageError:
        raise NotAnImage(f"{label}: not an image file (unrecognised format{_sniff(data)})", source=name) from None
    except (OSError, SyntaxError, ValueError) as e:
        raise CorruptImage(f"{label}: corrupt image header ({e})", source=name) from None

    w, h = img.size
    if w <= 0 or h <= 0:
        raise CorruptImage(f"{label}: image has no pixels ({w}x{h})", source=name)
    if w * h > limits.max_pixels:
        raise TooManyPixels(
            f"{label}: {w}x{h} = {w * h:,} pixels is over the limit of {limits.max_pixels:,} "
            "(possible decompression bomb)", source=name)

    fmt, mode = img.format, img.mode
    frames = int(getattr(img, "n_frames", 1) or 1)
    taken_at = _exif_taken_at(img)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            if frames > 1:
                img.seek(0)
            img.load()
            oriented = ImageOps.exif_transpose(img)
            rgb = to_rgb(oriented)
    except Image.DecompressionBombError as e:
        raise TooManyPixels(f"{label}: refused as a possible decompression bomb ({e})", source=name) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, ZeroDivisionError) as e:
        msg = str(e) or e.__class__.__name__
        kind = "truncated" if "truncated" in msg.lower() else "corrupt"
        raise CorruptImage(f"{label}: {kind} image data ({msg})", source=name) from None
    except MemoryError:
        raise TooManyPixels(f"{label}: not enough memory to decode", source=name) from None

    return LoadedImage(
        image=rgb, data=data, sha256=hashlib.sha256(data).hexdigest(), format=fmt,
        width=rgb.width, height=rgb.height, mode=mode, frames=frames, taken_at=taken_at, name=name,
    )


def to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode to 8-bit RGB: alpha composited on white, high bit depths scaled down."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _scale_to_8bit(img).convert("RGB")
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")  # 1, L, CMYK, YCbCr, LAB, HSV


def _scale_to_8bit(img: Image.Image) -> Image.Image:
    import numpy as np

    arr = np.asarray(img, dtype=np.float64)
    if img.mode.startswith("I;16"):
        lo, hi = 0.0, 65535.0
    else:
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        if img.mode == "I" and lo >= 0 and hi <= 255:
            lo, hi = 0.0, 255.0
        elif img.mode == "I" and lo >= 0 and hi <= 65535:
            lo, hi = 0.0, 65535.0
    if hi <= lo:
        out = np.zeros(arr.shape, dtype=np.uint8)
    else:
        out = np.clip((np.nan_to_num(arr, nan=lo) - lo) * (255.0 / (hi - lo)), 0, 255).round().astype(np.uint8)
    return Image.fromarray(out, "L")


def _exif_taken_at(img: Image.Image) -> float | None:
    try:
        exif = img.getexif()
        raw = exif.get_ifd(EXIF_IFD).get(EXIF_DATETIME_ORIGINAL) or exif.get(0x0132)
        if not raw:
            return None
        text = raw.decode("ascii", "ignore") if isinstance(raw, bytes) else str(raw)
        return datetime.strptime(text.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S").timestamp()
    except Exception:  # EXIF in the wild is messy; a missing date is not an error.
        return None


def _sniff(data: bytes) -> str:
    head = data[:64]
    if head[:1] in (b"{", b"[") or head.lstrip()[:1] == b"<":
        return "; it looks like text/markup"
    try:
        head.decode("utf-8")
        return "; it looks like a text file"
    except UnicodeDecodeError:
        return ""


# --- base64 and data: URLs -----------------------------------------------------------
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w-]+=[^;,]*)*)(?P<b64>;base64)?,", re.I)


def decode_base64(text: str, limits: Limits = Limits()) -> bytes:
    cleaned = re.sub(r"\s+", "", text)
    if len(cleaned) * 3 // 4 > limits.max_bytes:
        raise TooLarge(f"base64 input is over the limit of {limits.max_bytes:,} bytes")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        try:
            return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
        except (binascii.Error, ValueError):
            raise BadInput("input is not valid base64") from None


def decode_data_url(url: str, limits: Limits = Limits()) -> bytes:
    m = _DATA_URL.match(url)
    if not m:
        raise BadInput("malformed data: URL")
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


def load_any(source: str | bytes | os.PathLike, limits: Limits = Limits()) -> LoadedImage:
    """Load from whatever a user or API client handed us.

    bytes → raw image bytes; ``data:`` → data URL; ``http(s)://`` → fetched (guarded);
    another ``scheme://`` → refused; an existing path → file; otherwise base64.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return load_bytes(bytes(source), limits)
    if isinstance(source, os.PathLike):
        return load_path(source, limits)
    text = source.strip()
    if text[:5].lower() == "data:":
        return load_bytes(decode_data_url(text, limits), limits, name="data: URL")
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://", text)
    if m:
        from vlagent.imaging.fetch import fetch_url

        data = fetch_url(text, limits)
        return load_bytes(data, limits, name=text)
    if len(text) < 4096 and (os.path.sep in text or os.path.exists(text) or "." in text[-6:]):
        return load_path(os.path.expanduser(text), limits)
    if re.fullmatch(r"[A-Za-z0-9+/=_\-\s]+", text):
        return load_bytes(decode_base64(text, limits), limits, name="base64 input")
    raise BadInput("not a path, URL, data: URL or base64 image")
