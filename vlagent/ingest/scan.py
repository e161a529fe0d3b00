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


@dataclass(frozen=True)
class FileFilter:
    extensions: frozenset[str]
    exclude: tuple[str, ...] = ()
    include_hidden: bool = False
    excluded_folders: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings, home: Home | None = None) -> FileFilter:
        """``home``: the data home, whose own files (thumbnails, models, logs) are never
        indexed — thumbnails would come back as images of themselves."""
        view = settings.view
        excluded = [os.path.abspath(os.path.expanduser(p)) for p in view.privacy.excluded_folders]
        if home is not None:
            excluded += [os.path.abspath(d) for d in (home.thumbnails, home.models, home.logs)]
        return cls(
            extensions=frozenset(e.lower().lstrip(".") for e in view.ingest.extensions),
            exclude=tuple(view.watch.exclude),
            include_hidden=view.watch.include_hidden,
            excluded_folders=tuple(excluded),
        )

    def dir_allowed(self, path: str) -> bool:
        name = os.path.basename(path.rstrip(os.sep))
        if not self.include_hidden and name.startswith("."):
            return False
        for pat in self.exclude:
            if pat.endswith("/") and fnmatch.fnmatch(name, pat[:-1]):
                return False
        return not self.in_excluded_folder(path)

    def file_allowed(self, path: str) -> bool:
        name = os.path.basename(path)
        if not self.include_hidden and name.startswith("."):
            return False
        ext = os.path.splitext(name)[1].lower().lstrip(".")
        if ext not in self.extensions:
            return False
        return not any(not pat.endswith("/") and fnmatch.fnmatch(name, pat) for pat in self.exclude)

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
               on_error=None) -> Iterator[str]:
    """Absolute paths of image files: explicit files as given (any extension), folders walked.

    Symlinked folders are followed once; a loop is detected by (device, inode).
    """
    for p in paths:
        p = os.path.abspath(os.path.expanduser(os.fspath(p)))
        if flt.in_excluded_folder(p):
            if on_error:
                on_error(p, ValueError(f"{p}: inside an excluded folder (privacy.excluded_folders, or "
                                       "vlagent's own thumbnails/models/logs); not indexed"))
            continue
        if os.path.isdir(p):
            yield from _walk(p, flt, on_error)
        elif os.path.lexists(p):
            yield p
        elif on_error:
            on_error(p, FileNotFoundError(f"{p}: no such file or folder"))


def _walk(root: str, flt: FileFilter, on_error) -> Iterator[str]:
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
            if is_dir:
                if flt.dir_allowed(entry.path):
                    subdirs.append(entry.path)
            elif flt.file_allowed(entry.path):
                yield entry.path
        stack.extend(reversed(subdirs))
