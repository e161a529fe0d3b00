"""The built wheel holds the package and its resources (icons, translations, the desktop
entry) and nothing of the repository besides; installed into a fresh virtualenv, the
``vlagent`` it puts on PATH runs --version, doctor, index and search from a folder outside
the repository, with the code and resources coming from the venv, not the checkout."""

from __future__ import annotations

import json
import subprocess
import tarfile
import zipfile

from vlagent import __version__

CHECK = r"""
import json, sys, importlib.metadata
import vlagent
from vlagent.resources import resource_path, resources_root
from PySide6.QtCore import QTranslator
from PySide6.QtGui import QGuiApplication, QIcon
app = QGuiApplication(["check"])
tr = QTranslator()
qm = resource_path("translations", "vlagent_zh_CN.qm")
print(json.dumps({
    "vlagent": vlagent.__file__, "resources": str(resources_root()), "sys_path": sys.path,
    "dist_version": importlib.metadata.version("vlagent"),
    "icon_ok": not QIcon(str(resource_path("icons", "vlagent.svg"))).pixmap(64, 64).isNull(),
    "qm_loaded": tr.load(str(qm)), "show_logs_zh": tr.translate("DesktopApp", "Show logs"),
}))
"""


def test_wheel_holds_the_package_and_its_resources(built):
    names = set(zipfile.ZipFile(built.wheel).namelist())
    for res in ("icons/vlagent.svg", "icons/vlagent-48.png", "icons/tray-busy.svg",
                "translations/vlagent_zh_CN.qm", "desktop/vlagent.desktop",
                "web/index.html", "web/login.html", "web/app.js", "web/app.css"):  # the web face's page
        assert f"vlagent/_resources/{res}" in names
    assert "vlagent/cli/main.py" in names and "vlagent/desktop/install.py" in names
    assert not [n for n in names if n.split("/")[0] not in ("vlagent", f"vlagent-{__version__}.dist-info")]
    metadata = zipfile.ZipFile(built.wheel).read(f"vlagent-{__version__}.dist-info/METADATA").decode()
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist: ")]
    heavy = [line for line in requires if line.split()[1].startswith(("torch", "transformers", "accelerate"))]
    assert len(heavy) == 4 and all(line.endswith('extra == "vlm"') for line in heavy)  # OCR-only by default
    assert any(line.startswith("Requires-Dist: rapidocr") and "extra" not in line for line in requires)
    sdist = tarfile.open(built.sdist).getnames()
    top = f"vlagent-{__version__}"
    assert f"{top}/resources/icons/vlagent.svg" in sdist and f"{top}/setup.py" in sdist


def test_installed_wheel_runs_from_its_venv(fresh_venv, tmp_path, text_png):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = fresh_venv.env(tmp_path / "home")

    def run(*args, timeout=180):
        return subprocess.run([str(fresh_venv.vlagent), *map(str, args)], capture_output=True, text=True,
                              cwd=outside, env=env, timeout=timeout)

    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"vlagent {__version__}"

    info = json.loads(subprocess.run([str(fresh_venv.python), "-c", CHECK], capture_output=True, text=True,
                                     cwd=outside, env=env, timeout=120, check=True).stdout)
    venv = str(fresh_venv.root)
    assert info["vlagent"].startswith(venv), info["vlagent"]  # the installed copy ran, not the checkout
    assert info["resources"].startswith(venv) and info["resources"].endswith("vlagent/_resources")
    assert info["dist_version"] == __version__
    assert info["icon_ok"] and info["qm_loaded"] and info["show_logs_zh"] == "查看日志"

    doctor = run("doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "[ok ] ocr:" in doctor.stdout and "[ok ] torch:" in doctor.stdout

    text_png(["Packaging check 2024", "安装包测试成功"], name="a.png", folder=outside / "pics")
    text_png(["Unrelated receipt 17"], name="b.png", folder=outside / "pics")
    indexed = run("index", "pics", "--json")
    assert indexed.returncode == 0, indexed.stderr
    found = run("search", "安装包", "--json")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    paths = [r["path"] for r in (hits["results"] if isinstance(hits, dict) else hits)]
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["a.png"]
