"""The command line that starts this very installation of vlagent, for desktop entries and
service units: a frozen app's executable, the ``vlagent`` script next to the running
interpreter (a venv, pipx), or ``python -m vlagent``, all as absolute paths."""

from __future__ import annotations

import sys
from pathlib import Path


def launcher_argv(home: Path | None = None) -> list[str]:
    """``home``: a data home to pin (given when it was chosen with --home or VLAGENT_HOME)."""
    if getattr(sys, "frozen", False):
        argv = [str(Path(sys.executable).absolute())]
    else:
        # Not resolved: a venv's python is a symlink whose target lies outside the venv.
        python = Path(sys.executable).absolute()
        script = python.parent / ("vlagent.exe" if sys.platform == "win32" else "vlagent")
        argv = [str(script)] if script.is_file() else [str(python), "-m", "vlagent"]
    if home is not None:
        argv += ["--home", str(home)]
    return argv


_DESKTOP_RESERVED = set(' \t\n"\'\\><~|&;$*?#()`')


def desktop_exec(argv: list[str]) -> str:
    """An Exec= value: arguments with reserved characters double-quoted (Desktop Entry spec,
    "The Exec key"), then the string-level escaping every desktop-file value gets."""
    out = []
    for arg in argv:
        if arg and not (_DESKTOP_RESERVED & set(arg)):
            out.append(arg.replace("%", "%%"))
        else:
            out.append('"' + "".join("\\" + c if c in '"`$\\' else c for c in arg).replace("%", "%%") + '"')
    return " ".join(out).replace("\\", "\\\\")


def systemd_exec(argv: list[str]) -> str:
    """An ExecStart= value: each argument double-quoted, with systemd's escapes."""
    def quote(arg: str) -> str:
        return '"' + arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$") + '"'

    return " ".join(quote(a) for a in argv)
