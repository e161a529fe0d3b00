"""One agent per data home: a lock file holding the owner's PID.

Two workers on one database would claim each other's jobs and race on the same
files, so ``vlagent watch`` and the desktop app take this lock before starting. The
lock is an OS file lock (released by the kernel when the process dies, even on
``kill -9``), so a stale file never blocks a restart; the PID inside is only there to
tell the user who holds it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from vlagent.home import FILE_MODE, make_private_dir

LOCK_NAME = "agent.lock"


class AlreadyRunning(RuntimeError):
    def __init__(self, path: Path, pid: int | None):
        self.path = path
        self.pid = pid
        who = f"process {pid}" if pid else "another process"
        super().__init__(f"vlagent is already running on this data home ({who} holds {path}); "
                         f"stop it first, or use another --home")


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # no fcntl
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


class InstanceLock:
    def __init__(self, root: Path | str):
        self.path = Path(root) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> InstanceLock:
        make_private_dir(self.path.parent)  # the data home: its owner's only
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        if not _try_lock(fd):
            pid = self._read_pid(fd)
            os.close(fd)
            raise AlreadyRunning(self.path, pid)
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    @staticmethod
    def _read_pid(fd: int) -> int | None:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            text = os.read(fd, 64).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() else None
        except OSError:
            return None

    def holder(self) -> int | None:
        """PID of the live holder, or None when nobody holds the lock."""
        if self._fd is not None:
            return os.getpid()
        if not self.path.exists():
            return None
        try:
            self.acquire()
        except AlreadyRunning as e:
            return e.pid or -1
        self.release()
        return None

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        finally:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
