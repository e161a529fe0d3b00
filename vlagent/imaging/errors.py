"""Typed errors for image inputs. Each carries a short machine code and a clear sentence."""

from __future__ import annotations


class ImageInputError(Exception):
    code = "image_error"

    def __init__(self, message: str, *, source: str | None = None):
        super().__init__(message)
        self.source = source

    def __str__(self) -> str:
        return self.args[0]


class EmptyFile(ImageInputError):
    code = "empty"


class NotAnImage(ImageInputError):
    code = "not_an_image"


class CorruptImage(ImageInputError):
    code = "corrupt"


class Unsupported(ImageInputError):
    """An image PIL can read but we cannot turn into RGB (e.g. a LAB TIFF)."""

    code = "unsupported"


class TooManyPixels(ImageInputError):
    """Decompression-bomb guard: the header promises more pixels than allowed."""

    code = "too_many_pixels"


class TooLarge(ImageInputError):
    code = "too_large"


class FileVanished(ImageInputError):
    """No file at the path: it was moved or deleted (possibly between listing and reading)."""

    code = "vanished"


class BrokenLink(ImageInputError):
    """A symbolic link whose target does not exist (or a loop of links)."""

    code = "broken_link"


class AccessDenied(ImageInputError):
    code = "permission"


class FetchError(ImageInputError):
    code = "fetch"


class URLNotAllowed(ImageInputError):
    code = "url_not_allowed"


class BadInput(ImageInputError):
    """Input that is none of: a path, bytes, base64, a data: URL, an http(s) URL."""

    code = "bad_input"
