"""The wheel and sdist, built once per session with ``python -m build`` from this checkout,
and a fresh virtualenv with the wheel installed. The venv gets the wheel only (no repository
on its path); the heavy dependencies come from the running interpreter's site-packages
through a .pth line, so nothing is downloaded."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO


@dataclass
class Built:
    wheel: Path
    sdist: Path


@dataclass
class FreshVenv:
    root: Path
    python: Path
    vlagent: Path

    def env(self, home: Path, **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env.update(VLAGENT_HOME=str(home), PYTHONNOUSERSITE="1", QT_QPA_PLATFORM="offscreen")
        env.update({k: str(v) for k, v in extra.items()})
        return env


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Built:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel,), (sdist,) = list(out.glob("*.whl")), list(out.glob("*.tar.gz"))
    return Built(wheel, sdist)


@pytest.fixture(scope="session")
def fresh_venv(built, tmp_path_factory) -> FreshVenv:
    root = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    python = root / "bin" / "python"
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                           "--disable-pip-version-check", "-q", str(built.wheel)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    purelib = Path(subprocess.check_output([str(python), "-c", where], text=True).strip())
    # The dependencies (torch, PySide6, RapidOCR …) from the running interpreter; never the repository.
    shared = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    assert not any(Path(p).resolve() == REPO.resolve() for p in shared)
    (purelib / "_vlagent_test_deps.pth").write_text("\n".join(sorted(shared)) + "\n")
    return FreshVenv(root, python, root / "bin" / "vlagent")
