"""``vlagent model pull|list|rm`` end to end: the real CLI, the real hub clients (huggingface_hub,
modelscope) and a real HTTP hub on loopback (``vlagent.dev.fake_hub``) that can drop or stall
a transfer on purpose."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, cli_env, run_cli
from vlagent.dev.fake_hub import FakeHub, Fault, Repo, checkpoint_files

REPO_ID = "Qwen/Tiny-VL"
BIG = "model-00001-of-00002.safetensors"
KEPT = {"config.json", "generation_config.json", "model.safetensors.index.json", BIG,
        "model-00002-of-00002.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt",
        "preprocessor_config.json", "chat_template.json"}
CHUNK = 10 * 1024 * 1024  # huggingface_hub writes what it receives in pieces of this size


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return checkpoint_files()


@pytest.fixture
def hub(files):
    with FakeHub({REPO_ID: Repo(dict(files))}) as h:
        yield h


@pytest.fixture
def caches(tmp_path) -> dict:
    """Empty HF and ModelScope caches, so no model of the developer's machine is seen."""
    return {"HF_HUB_CACHE": str(tmp_path / "hf-cache"), "MODELSCOPE_CACHE": str(tmp_path / "ms-cache")}


def online(home, hub, caches, **extra) -> dict:
    """Environment of a CLI run that deliberately talks to the loopback hub."""
    return cli_env(home, HF_ENDPOINT=hub.url, MODELSCOPE_ENDPOINT=hub.url, HF_HUB_OFFLINE="0",
                   TRANSFORMERS_OFFLINE="0", MODELSCOPE_REPO_TREE_PAGE_MAX_ATTEMPTS="1", **caches, **extra)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def model_dir(home: Path) -> Path:
    return home / "models" / "Qwen--Tiny-VL"


def assert_pulled(folder: Path, files: dict[str, bytes]) -> None:
    present = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
    assert present == KEPT  # no .bin, .gguf, README, onnx/ subfolder
    for name in KEPT:
        assert sha((folder / name).read_bytes()) == sha(files[name]), name
    manifest = json.loads((folder / ".vlagent-model.json").read_text())
    assert manifest["complete"] is True and manifest["id"] == REPO_ID
    assert not (folder / ".partial").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- Hugging Face -------------------------------------------------------------------------------

def test_pull_downloads_only_needed_files_with_progress_then_list_and_resolve(vlagent_home, hub, caches, files,
                                                                              monkeypatch):
    r = run_cli("model", "pull", REPO_ID, env=online(vlagent_home, hub, caches))
    assert r.returncode == 0, r.stderr_text
    assert_pulled(model_dir(vlagent_home), files)
    # the progress bar: bytes done / total, a rate and an ETA
    assert "12.0 MB/12.0 MB" in r.stderr_text and "/s ETA" in r.stderr_text, r.stderr_text
    assert f"{REPO_ID} from huggingface (commit {hub.repos[REPO_ID].commit[:12]}): 11 files" in r.stdout_text
    assert not [q for q in hub.requests if q.get("file") in ("pytorch_model.bin", "model.gguf", "README.md")]

    # offline from here on: list and resolve need no network
    ls = run_cli("model", "list", "--json", env=cli_env(vlagent_home, **caches))
    assert ls.returncode == 0, ls.stderr_text
    [entry] = json.loads(ls.stdout)["models"]
    assert entry["id"] == REPO_ID and entry["source"] == "vlagent" and entry["complete"]
    assert entry["bytes"] >= sum(len(files[n]) for n in KEPT)
    text = run_cli("model", "list", env=cli_env(vlagent_home, **caches)).stdout_text
    assert REPO_ID in text and "12.0 MB" in text

    from vlagent.home import Home
    from vlagent.vlm.hub import resolve_model

    monkeypatch.setenv("MODELSCOPE_CACHE", caches["MODELSCOPE_CACHE"])
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert resolve_model(REPO_ID, home=Home(vlagent_home)) == model_dir(vlagent_home)

    again = run_cli("model", "pull", REPO_ID, env=online(vlagent_home, hub, caches))
    assert again.returncode == 0 and "already up to date" in again.stdout_text
    assert len([q for q in hub.requests if q.get("file")]) == len(KEPT)  # nothing fetched twice


def test_connection_dropped_mid_file_resumes_with_a_range_request(vlagent_home, hub, caches, files):
    hub.faults[BIG] = Fault(after=CHUNK + 1024 * 1024)  # drop once, 11 MB into the 12 MB shard
    r = run_cli("model", "pull", REPO_ID, env=online(vlagent_home, hub, caches))
    assert r.returncode == 0, r.stderr_text
    assert_pulled(model_dir(vlagent_home), files)
    gets = hub.file_gets(BIG)
    assert [g["range"] for g in gets] == [None, f"bytes={CHUNK}-"]
    assert hub.sent[BIG] == CHUNK + 1024 * 1024 + len(files[BIG]) - CHUNK  # only the missing bytes again


def test_interrupted_pull_continues_in_the_next_run(vlagent_home, hub, caches, files):
    stall = threading.Event()
    hub.faults[BIG] = Fault(after=CHUNK + 512 * 1024, stall=stall)
    proc = subprocess.Popen([sys.executable, "-m", "vlagent", "model", "pull", REPO_ID], cwd=str(REPO),
                            env=online(vlagent_home, hub, caches), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    partial = model_dir(vlagent_home) / ".partial" / f"{sha(files[BIG])}.part"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (partial.exists() and partial.stat().st_size >= CHUNK):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # the user presses Ctrl-C
    _, err = proc.communicate(timeout=60)
    stall.set()
    assert proc.returncode == 130, err.decode()
    assert "run the same command again to continue" in err.decode()
    assert partial.stat().st_size == CHUNK

    from vlagent.home import Home
    from vlagent.vlm.base import ModelNotAvailable
    from vlagent.vlm.hub import resolve_model

    with pytest.raises(ModelNotAvailable, match=f"the download of model {REPO_ID} is not finished; run: "
                                                f"vlagent model pull {REPO_ID}"):
        resolve_model(REPO_ID, home=Home(vlagent_home))

    done_before = {q["file"] for q in hub.requests if q.get("file")} - {BIG}
    n = len(hub.requests)
    r = run_cli("model", "pull", REPO_ID, env=online(vlagent_home, hub, caches))
    assert r.returncode == 0, r.stderr_text
    assert "resuming: 10.0 MB already downloaded" in r.stderr_text
    assert "12.0 MB/12.0 MB" in r.stderr_text
    assert hub.file_gets(BIG)[-1]["range"] == f"bytes={CHUNK}-"
    refetched = {q["file"] for q in hub.requests[n:] if q.get("file")}
    assert done_before and not done_before & refetched, "files finished before the interruption were fetched again"
    assert refetched == KEPT - done_before
    assert_pulled(model_dir(vlagent_home), files)


def test_unreachable_hub_gives_one_sentence_and_leaves_nothing_broken(vlagent_home, caches):
    port = free_port()
    env = cli_env(vlagent_home, HF_ENDPOINT=f"http://127.0.0.1:{port}", HF_HUB_OFFLINE="0", **caches)
    r = run_cli("model", "pull", REPO_ID, env=env)
    assert r.returncode == 1
    err = r.stderr_text.strip()
    assert err.startswith(f"vlagent: could not reach Hugging Face at http://127.0.0.1:{port} to download {REPO_ID} "
                          f"(connection refused); try --hub modelscope")
    assert "--hub modelscope" in err and "--model" in err and "Traceback" not in err
    assert len(err.splitlines()) == 1
    assert not model_dir(vlagent_home).exists()


def test_offline_mode_pull_says_so(vlagent_home, caches):
    r = run_cli("model", "pull", REPO_ID, env=cli_env(vlagent_home, **caches))  # HF_HUB_OFFLINE=1 (conftest)
    assert r.returncode == 1
    assert "Hugging Face downloads are switched off (HF_HUB_OFFLINE is set)" in r.stderr_text
    assert "Traceback" not in r.stderr_text


def test_unknown_model_and_revision(vlagent_home, hub, caches):
    r = run_cli("model", "pull", "Qwen/Nope", env=online(vlagent_home, hub, caches))
    assert r.returncode == 1 and "Hugging Face has no model Qwen/Nope" in r.stderr_text
    r = run_cli("model", "pull", REPO_ID, "--revision", "v9", env=online(vlagent_home, hub, caches))
    assert r.returncode == 1 and "has no revision 'v9'" in r.stderr_text


def test_pull_to_a_folder_and_remove(vlagent_home, hub, caches, files, tmp_path):
    target = tmp_path / "elsewhere"
    r = run_cli("model", "pull", REPO_ID, "--to", target, "--json", env=online(vlagent_home, hub, caches))
    assert r.returncode == 0, r.stderr_text
    out = json.loads(r.stdout)
    assert out["path"] == str(target) and out["fetched_files"] == len(KEPT)
    assert_pulled(target, files)

    r = run_cli("model", "pull", REPO_ID, env=online(vlagent_home, hub, caches))
    assert r.returncode == 0
    rm = run_cli("model", "rm", REPO_ID, env=cli_env(vlagent_home, **caches))
    assert rm.returncode == 0 and not model_dir(vlagent_home).exists()
    rm = run_cli("model", "rm", REPO_ID, env=cli_env(vlagent_home, **caches))
    assert rm.returncode == 2 and f"no model '{REPO_ID}'" in rm.stderr_text


def test_model_pulled_by_huggingface_hub_itself_is_found_in_its_cache(vlagent_home, hub, caches, files, monkeypatch):
    """A user who already has the model in the HF cache (from any HF tool) doesn't download it again."""
    code = ("from huggingface_hub import snapshot_download; "
            f"print(snapshot_download({REPO_ID!r}, allow_patterns=['*.json', '*.safetensors', '*.txt']))")
    r = subprocess.run([sys.executable, "-c", code], env=online(vlagent_home, hub, caches), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    snapshot = Path(r.stdout.strip().splitlines()[-1])
    ls = run_cli("model", "list", "--json", env=cli_env(vlagent_home, **caches))
    [entry] = json.loads(ls.stdout)["models"]
    assert entry["source"] == "huggingface-cache" and Path(entry["path"]) == snapshot

    import huggingface_hub.constants

    from vlagent.home import Home
    from vlagent.vlm.hub import remove_model, resolve_model

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", caches["HF_HUB_CACHE"])
    assert resolve_model(REPO_ID, home=Home(vlagent_home)) == snapshot
    with pytest.raises(Exception, match="huggingface cache .* which vlagent does not manage"):
        remove_model(REPO_ID, home=Home(vlagent_home))


# --- ModelScope ---------------------------------------------------------------------------------

def test_modelscope_pull_from_settings_resumes_a_dropped_transfer(vlagent_home, hub, caches, files):
    pytest.importorskip("modelscope")
    vlagent_home.mkdir(parents=True, exist_ok=True)
    (vlagent_home / "config.toml").write_text(f'[vlm]\nmodel = "{REPO_ID}"\nhub = "modelscope"\n')
    hub.faults[BIG] = Fault(after=3_000_000)
    r = run_cli("model", "pull", env=online(vlagent_home, hub, caches))  # id and hub from the settings
    assert r.returncode == 0, r.stderr_text
    assert f"{REPO_ID} from modelscope (revision master)" in r.stdout_text
    assert_pulled(model_dir(vlagent_home), files)
    assert [g["range"] for g in hub.file_gets(BIG)] == [None, "bytes=3000000-"]
    assert "/s ETA" in r.stderr_text
    ls = json.loads(run_cli("model", "list", "--json", env=cli_env(vlagent_home, **caches)).stdout)
    assert ls["configured"]["path"] == str(model_dir(vlagent_home)) and ls["models"][0]["configured"]


def test_modelscope_unreachable_gives_one_sentence(vlagent_home, caches):
    pytest.importorskip("modelscope")
    port = free_port()
    env = cli_env(vlagent_home, MODELSCOPE_ENDPOINT=f"http://127.0.0.1:{port}",
                  MODELSCOPE_REPO_TREE_PAGE_MAX_ATTEMPTS="1", **caches)
    r = run_cli("model", "pull", REPO_ID, "--hub", "modelscope", env=env)
    assert r.returncode == 1
    err = r.stderr_text.strip()
    assert err == (f"vlagent: could not reach ModelScope at http://127.0.0.1:{port} to download {REPO_ID} "
                   f"(connection refused); try --hub huggingface, a proxy (HTTPS_PROXY) or a mirror (MODELSCOPE_ENDPOINT), "
                   f"or copy the model folder here and pass its path with --model")
    assert not (model_dir(vlagent_home) / "config.json").exists()
