"""An install without the ``vlm`` extra (no torch): doctor says the local model is not
installed and how to add it, and still passes; OCR works."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO, cli_env

NO_TORCH = "import sys; sys.modules['torch'] = None; from vlagent.cli.main import main; sys.exit(main(sys.argv[1:]))"


def without_torch(home, *args):
    return subprocess.run([sys.executable, "-c", NO_TORCH, *map(str, args)], capture_output=True, text=True,
                          timeout=180, env=cli_env(home), cwd=str(REPO))


def test_doctor_without_torch_passes_and_names_the_extra(vlagent_home):
    proc = without_torch(vlagent_home, "doctor")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[-- ] torch: installed=False, note=not installed; the local model needs: pip install 'vlagent[vlm]'" \
        in proc.stdout
    assert "[ok ] ocr:" in proc.stdout


def test_without_torch_ocr_indexes_and_the_model_says_what_to_install(vlagent_home, text_png, tiny_model_dir):
    img = text_png(["Invoice 2024-0193", "发票总金额"], name="bill.png")
    indexed = without_torch(vlagent_home, "index", img)
    assert indexed.returncode == 0, indexed.stdout + indexed.stderr
    found = without_torch(vlagent_home, "search", "发票")
    assert "bill.png" in found.stdout
    described = without_torch(vlagent_home, "describe", img, "--model", tiny_model_dir)
    assert described.returncode == 1
    assert "needs the torch package, which is not installed (pip install 'vlagent[vlm]'" in described.stderr
    assert "Traceback" not in described.stderr


def test_without_torch_describe_names_the_extra_before_any_download(vlagent_home, text_png):
    img = text_png(["Receipt total 42.00"], name="receipt.png")
    described = without_torch(vlagent_home, "describe", img)  # the default model: a hub id, not downloaded
    assert described.returncode == 1, described.stdout + described.stderr
    last = described.stderr.strip().splitlines()[-1]
    assert last == ("vlagent: the transformers backend needs the torch package, which is not installed "
                    "(pip install 'vlagent[vlm]', or use a remote server: vlm.backend openai)")
    assert "model pull" not in described.stderr and "Traceback" not in described.stderr
    # What it stored is still searchable by its text: OCR needs no torch.
    assert "receipt.png" in without_torch(vlagent_home, "search", "Receipt").stdout
