"""An install without the ``vlm`` extra (no torch): doctor says the local model is not
installed and how to add it, and still passes; OCR works."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO, cli_env

NO_TORCH = "import sys; sys.modules['torch'] = None; from vlagent.cli.main import main; sys.exit(main(['doctor']))"


def test_doctor_without_torch_passes_and_names_the_extra(vlagent_home):
    proc = subprocess.run([sys.executable, "-c", NO_TORCH], capture_output=True, text=True, timeout=180,
                          env=cli_env(vlagent_home), cwd=str(REPO))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[-- ] torch: installed=False, note=not installed; the local model needs: pip install 'vlagent[vlm]'" \
        in proc.stdout
    assert "[ok ] ocr:" in proc.stdout
