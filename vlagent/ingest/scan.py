"""Finding image files under the paths a user gives: extensions, hidden files, excludes."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vlagent.home import Home
    from vlagent.settings.store import Settings


# Why a folder walk passes over an entry (a file, or a folder and all it holds).
SKIP_REASONS = {
    "not_image": "not an image type this installation opens",
    "hidden": "hidden (watch.include_hidden)",
    "excluded": "matches watch.exclude",
    "excluded_folder": "an excluded folder (privacy.excluded_folders, or vlagent's own data)",
}


@dataclass(frozen=True)
class FileFilter:
    extensions: frozenset[str]
    exclude: tuple[str, ...] = ()
    include_hidden: bool = False
    excluded_folders: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings, home: Home | None = None) -> FileFilter:
        """``home``: the data home, whose own files (thumbnails, models, logs) are never
        indexed — thumbnails would come back as images of themselves. With no
        ``ingest.extensions`` set, the extensions are those of every image type this
        installation opens (:func:`vlagent.imaging.formats.supported_extensions`)."""
        view = settings.view
        excluded = [os.path.abspath(os.path.expanduser(p)) for p in view.privacy.excluded_folders]
        if home is not None:
            excluded += [os.path.abspath(d) for d in (home.thumbnails, home.models, home.logs)]
        extensions = frozenset(e.lower().lstrip(".") for e in view.ingest.extensions)
        if not extensions:
            from vlagent.imaging.formats import supported_extensions

            extensions = supported_extensions()
        return cls(
            extensions=extensions,
            exclude=tuple(view.watch.exclude),
            include_hidden=view.watch.include_hidden,
            excluded_folders=tuple(excluded),
        )

    def dir_allowed(self, path: str) -> bool:
        return self.dir_skip_reason(path) is None

    def file_allowed(self, path: str) -> bool:
        return self.file_skip_reason(path) is None

    def dir_skip_reason(self, path: str) -> str | None:
        """Why a walk does not enter this folder (a key of :data:`SKIP_REASONS`), or None."""
        name = os.path.basename(path.rstrip(os.sep))
        if not self.include_hidden and name.startswith("."):
            return "hidden"
        for pat in self.exclude:
            if pat.endswith("/") and fnmatch.fnmatch(name, pat[:-1]):
                return "excluded"
        return "excluded_folder" if self.in_excluded_folder(path) else None

    def file_skip_reason(self, path: str) -> str | None:
        """Why a walk passes over this file (a key of :data:`SKIP_REASONS`), or None."""
        name = os.path.basename(path)
        if not self.include_hidden and name.startswith("."):
            return "hidden"
        if any(not pat.endswith("/") and fnmatch.fnmatch(name, pat) for pat in self.exclude):
            return "excluded"
        ext = os.path.splitext(name)[1].lower().lstrip(".")
        return None if ext in self.extensions else "not_image"

    def path_allowed(self, path: str, root: str | None = None) -> bool:
        """A file path, checking every folder between ``root`` and the file too."""
        if not self.file_allowed(path):
            return False
        parent = os.path.dirname(path)
        stop = os.path.dirname(root.rstrip(os.sep)) if root else os.sep
        while parent and parent != stop and parent != os.sep:
            if not self.dir_allowed(parent) and (root is None or parent != root.rstrip(os.sep)):
                return False
            parent = os.path.dirname(parent)
        return not self.in_excluded_folder(path)

    def in_excluded_folder(self, path: str) -> bool:
        return any(path == ex or path.startswith(ex.rstrip(os.sep) + os.sep) for ex in self.excluded_folders)


def iter_files(paths: Iterable[str | os.PathLike], flt: FileFilter,
               on_error=None, on_skip=None) -> Iterator[str]:
    """Absolute paths of image files: explicit files as given (any extension), folders walked.

    Symlinked folders are followed once; a loop is detected by (device, inode).
    ``on_error(path, exc)``: a path that cannot be listed; ``on_skip(path, reason)``: a file
    (or a folder, once for all it holds) that a walk passes over, ``reason`` a key of
    :data:`SKIP_REASONS`.
    """
    for p in paths:
        p = os.path.abspath(os.path.expanduser(os.fspath(p)))
        if flt.in_excluded_folder(p):
            if on_error:
                on_error(p, ValueError(f"{p}: inside an excluded folder (privacy.excluded_folders, or "
                                       "vlagent's own thumbnails/models/logs); not indexed"))
            continue
        if os.path.isdir(p):
            yield from _walk(p, flt, on_error, on_skip)
        elif os.path.lexists(p):
            yield p
        elif on_error:
            on_error(p, FileNotFoundError(f"{p}: no such file or folder"))


def _walk(root: str, flt: FileFilter, on_error, on_skip) -> Iterator[str]:
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            st = os.stat(d)
        except OSError as e:
            if on_error:
                on_error(d, e)
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            continue
        seen.add(key)
        try:
            with os.scandir(d) as it:
                entries = sorted(it, key=lambda entry: entry.name)
        except OSError as e:
            if on_error:
                on_error(d, e)
            continue
        subdirs = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                is_dir = False
            reason = flt.dir_skip_reason(entry.path) if is_dir else flt.file_skip_reason(entry.path)
            if reason is not None:
                if on_skip:
                    on_skip(entry.path, reason)
            elif is_dir:
                subdirs.append(entry.path)
            else:
                yield entry.path
        stack.extend(reversed(subdirs))
