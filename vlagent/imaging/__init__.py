"""Safe image loading (paths, bytes, base64, data: and http(s) URLs) and thumbnails."""

from vlagent.imaging.errors import ImageInputError
from vlagent.imaging.load import Limits, LoadedImage, load_any, load_bytes, load_path

__all__ = ["ImageInputError", "Limits", "LoadedImage", "load_any", "load_bytes", "load_path"]
