"""``search``, ``show`` and ``status`` need no model: they must not import the heavy stack.

A behaviour test, not a timing one: after the command ran, ``sys.modules`` of that very
process is inspected.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, cli_env, run_cli
from vlagent.samples import photo_like

HEAVY = ["torch", "transformers", "PySide6", "rapidocr", "onnxruntime", "cv2", "numpy", "PIL", "httpx",
         "sqlite_utils", "accelerate", "qwen_vl_utils", "fastapi", "starlette", "uvicorn", "daft", "ray"]

RUN_AND_REPORT = f"""
import json, sys
from vlagent.cli.main import main
rc = main(sys.argv[1:])
heavy = json.loads({json.dumps(HEAVY)!r})
print("LOADED=" + json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.stderr)
sys.exit(rc)
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    base = tmp_path_factory.mktemp("fast")
    pics = base / "pics"
    pics.mkdir()
    photo_like(200, 150, seed=3).save(pics / "lighthouse_at_dusk.jpg")
    proc = run_cli("index", pics, "--no-ocr", "--json", home=base / "home")
    assert proc.returncode == 0 and json.loads(proc.stdout_text)["new"] == 1
    return base / "home"


@pytest.mark.parametrize("args", [["search", "lighthouse", "--json"], ["search", "lighthouse"],
                                  ["show", "1", "--json"], ["show", "1"], ["status"], ["status", "--json"]])
def test_read_commands_import_nothing_heavy(home, args):
    proc = subprocess.run([sys.executable, "-c", RUN_AND_REPORT, *args], capture_output=True, text=True,
                          cwd=str(REPO), env=cli_env(home), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "lighthouse_at_dusk" in proc.stdout or "images: 1" in proc.stdout or '"images": 1' in proc.stdout
    loaded = json.loads(proc.stderr.rsplit("LOADED=", 1)[1])
    assert loaded == [], f"vlagent {' '.join(args)} imported {loaded}"


def test_the_probe_sees_heavy_imports_when_they_happen(home):
    # The same probe on a command that does load PIL must report it (the test can fail).
    proc = subprocess.run([sys.executable, "-c", RUN_AND_REPORT, "index", str(home.parent / "pics"), "--no-ocr",
                           "--json"], capture_output=True, text=True, cwd=str(REPO), env=cli_env(home), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "PIL" in json.loads(proc.stderr.rsplit("LOADED=", 1)[1])
