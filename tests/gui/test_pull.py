"""Pull model from the settings dialog: the real hub client against a hub on loopback, the
progress bar moving to the end, the model folder complete."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO, cli_env

SCRIPT = r"""
import json, sys
from PySide6.QtWidgets import QApplication
from vlagent.gui.settings_dialog import SettingsDialog
from vlagent.home import Home
from vlagent.settings import Settings

app = QApplication([])
home = Home.resolve()
dialog = SettingsDialog(Settings.load(home.config_path), home)
dialog.fields["vlm.model"].set_value(sys.argv[1])
seen, out = [], {}
dialog.pull_model()
dialog._pull.progress.connect(lambda done, total: seen.append(dialog.pull_progress.value()))
dialog._pull.finished.connect(lambda r: (out.update(path=str(r.path)), app.quit()))
dialog._pull.failed.connect(lambda m: (out.update(error=m), app.quit()))
app.exec()
out.update(values=seen, maximum=dialog.pull_progress.maximum(), final=dialog.pull_progress.value(),
           status=dialog.pull_status.text(), button=dialog.pull_button.isEnabled())
print(json.dumps(out))
"""

def test_pull_model_shows_progress_and_ends_ready(tmp_path, vlagent_home):
    from vlagent.dev.fake_hub import FakeHub, Repo, checkpoint_files

    files = checkpoint_files(big_shard_bytes=4 * 1024 * 1024)
    with FakeHub({"Qwen/Tiny-VL": Repo(dict(files))}) as hub:
        env = cli_env(vlagent_home, HF_ENDPOINT=hub.url, HF_HUB_OFFLINE="0", TRANSFORMERS_OFFLINE="0",
                      HF_HUB_CACHE=str(tmp_path / "hf-cache"))
        proc = subprocess.run([sys.executable, "-c", SCRIPT, "Qwen/Tiny-VL"], cwd=REPO, env=env,
                              capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    out = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    assert "error" not in out, out
    folder = vlagent_home / "models" / "Qwen--Tiny-VL"
    assert out["path"] == str(folder)
    assert (folder / "config.json").read_bytes() == files["config.json"]
    assert out["final"] == out["maximum"] == 1
    values = out["values"]  # per mille, while downloading
    assert values == sorted(values) and values[-1] == 1000 and len(values) >= 2
    assert out["status"] == f"Ready: {folder}" and out["button"]
