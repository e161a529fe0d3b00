"""Folder watching: complete files indexed once, moves and deletes followed, backfill."""

from vlagent.watch.watcher import FolderWatcher, WatchStatus, normalize_folders

__all__ = ["FolderWatcher", "WatchStatus", "normalize_folders"]
