"""Which image types this installation opens: Pillow's own formats, plus those of the plugins
that are installed (HEIC/HEIF: ``pillow-heif``; AVIF on a Pillow built without it:
``pillow-avif-plugin``). A folder walk takes the files with these extensions (unless
``ingest.extensions`` names others); ``vlagent doctor`` lists them.
"""

from __future__ import annotations

import functools
import importlib

from PIL import Image, ImageFile

# Formats Pillow registers but that are no picture to index here: identify-only (MPEG), in need
# of an outside program (EPS: Ghostscript), or data files that share an extension with other
# things (FITS ``.fit``: sports trackers; PCD ``.pcd``: point clouds; GBR ``.gbr``: Gerber
# circuit boards; IPTC ``.iim``).
# Pillow's stub formats (GRIB, BUFR, HDF5, WMF without a handler) are left out as well.
NOT_INDEXED = frozenset({"MPEG", "EPS", "FITS", "PCD", "GBR", "IPTC"})


@functools.cache
def register_plugins() -> tuple[str, ...]:
    """Register the installed Pillow plugins (once); returns the names of those found."""
    found = []
    try:
        heif = importlib.import_module("pillow_heif")
        heif.register_heif_opener()
        found.append("pillow_heif")
    except Exception:  # noqa: BLE001 - not installed, or broken: Pillow's own formats still work
        pass
    Image.init()
    if "AVIF" not in Image.OPEN:
        try:
            importlib.import_module("pillow_avif")  # registers itself
            found.append("pillow_avif")
        except Exception:  # noqa: BLE001
            pass
    return tuple(found)


@functools.cache
def supported_formats() -> dict[str, tuple[str, ...]]:
    """Pillow format name → the file extensions (no dot, lower case) it is opened for."""
    register_plugins()
    Image.init()
    formats: dict[str, list[str]] = {}
    for ext, fmt in Image.registered_extensions().items():
        opener = Image.OPEN.get(fmt)
        if opener is None or fmt in NOT_INDEXED:
            continue
        cls = opener[0]
        if isinstance(cls, type) and issubclass(cls, ImageFile.StubImageFile):
            continue
        formats.setdefault(fmt, []).append(ext.lower().lstrip("."))
    return {fmt: tuple(sorted(exts)) for fmt, exts in sorted(formats.items())}


@functools.cache
def supported_extensions() -> frozenset[str]:
    """Every extension (no dot, lower case) of :func:`supported_formats`."""
    return frozenset(ext for exts in supported_formats().values() for ext in exts)
