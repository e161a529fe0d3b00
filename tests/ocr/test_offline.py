"""OCR needs no network: RapidOCR's models ship in its wheel. Run it in a fresh interpreter
where every socket connection fails, and check nothing was fetched or written next to the
models."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import cli_env

NO_NETWORK = textwrap.dedent('''
    import socket

    def _refuse(*args, **kwargs):
        raise OSError("network access attempted during an offline test")

    socket.socket.connect = _refuse
    socket.socket.connect_ex = _refuse
    socket.create_connection = _refuse
    socket.getaddrinfo = _refuse
''')

RUN_OCR = textwrap.dedent('''
    import json, socket
    try:
        socket.create_connection(("127.0.0.1", 9), timeout=1)
        guard = "open"
    except OSError as e:
        guard = str(e)
    from vlagent.samples import text_image
    from vlagent.ocr.rapid import RapidOcrEngine
    res = RapidOcrEngine().recognize(text_image(["Offline 42", "离线识别"], font_size=30))
    print(json.dumps({"guard": guard, "text": res.text}))
''')


def model_dir_state() -> dict:
    import rapidocr

    models = Path(rapidocr.__file__).parent / "models"
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in models.iterdir()}


def test_ocr_runs_with_network_access_impossible_and_downloads_nothing(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(NO_NETWORK)
    env = cli_env()
    env["PYTHONPATH"] = str(tmp_path) + ":" + env["PYTHONPATH"]  # sitecustomize runs before anything else
    before = model_dir_state()
    proc = subprocess.run([sys.executable, "-c", RUN_OCR], capture_output=True, text=True, env=env,
                          timeout=180, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["guard"] == "network access attempted during an offline test"  # the guard was active
    assert out["text"] == "Offline 42\n离线识别"
    assert model_dir_state() == before
