"""Where models live on disk, and how a folder is recognised as a complete model.

vlagent pulls a model into ``VLAGENT_HOME/models/<owner>--<name>/`` as plain files (what
``from_pretrained`` reads) plus ``.vlagent-model.json``, a manifest that records the hub, the
revision and commit, each file's size and ETag, and whether the pull finished. Unfinished
downloads wait in ``.partial/`` inside that folder so the next pull resumes them.

Models already downloaded by other tools are found where they are, without copying: the
Hugging Face cache (``HF_HUB_CACHE``) and the ModelScope cache (``MODELSCOPE_CACHE``, in its
current and older layouts). Nothing here touches the network.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

MANIFEST = ".vlagent-model.json"
PARTIAL = ".partial"

# The files a transformers Qwen-VL checkpoint needs; other formats (.bin, .gguf, onnx/, …) are skipped.
WANTED_PATTERNS = (
    "config.json", "generation_config.json",
    "*.safetensors", "model.safetensors.index.json",
    "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "tokenizer.model",
    "special_tokens_map.json", "added_tokens.json",
    "preprocessor_config.json", "processor_config.json", "video_preprocessor_config.json",
    "chat_template.json", "chat_template.jinja",
)

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def wanted(filename: str) -> bool:
    """True for a top-level file that loading the model needs."""
    return "/" not in filename and any(fnmatch(filename, p) for p in WANTED_PATTERNS)


def is_repo_id(text: str) -> bool:
    return bool(REPO_ID.match(text)) and ".." not in text


def folder_name(repo_id: str) -> str:
    return repo_id.replace("/", "--")


def weights_complete(folder: Path) -> bool:
    """config.json plus every safetensors shard the index names (or a single model.safetensors)."""
    if not (folder / "config.json").is_file():
        return False
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return False
        return bool(shards) and all((folder / s).is_file() for s in shards)
    return any(folder.glob("*.safetensors"))


def read_manifest(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_manifest(folder: Path, manifest: dict) -> None:
    """Atomic: a crash leaves the old manifest or the new one, never half of one."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=MANIFEST, suffix=".tmp", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=2)
    os.chmod(tmp, 0o644)
    os.replace(tmp, folder / MANIFEST)


def new_manifest(repo_id: str, hub: str, revision: str | None) -> dict:
    return {"id": repo_id, "hub": hub, "revision": revision, "commit": None, "files": {},
            "complete": False, "started_at": time.time(), "pulled_at": None}


def folder_size(folder: Path) -> int:
    """Bytes of the model files (symlinks followed, as in the HF cache), without partial downloads."""
    total = 0
    for p in folder.rglob("*"):
        if PARTIAL in p.parts:
            continue
        try:
            if p.is_file():
                total += p.stat().st_size
        except OSError:
            pass
    return total


@dataclass
class LocalModel:
    id: str
    path: Path
    source: str  # "vlagent" | "huggingface-cache" | "modelscope-cache"
    complete: bool
    manifest: dict | None = None
    size: int = field(default=0)

    def as_dict(self) -> dict:
        m = self.manifest or {}
        return {"id": self.id, "path": str(self.path), "source": self.source, "complete": self.complete,
                "bytes": self.size, "hub": m.get("hub"), "revision": m.get("revision"), "commit": m.get("commit")}


# --- vlagent's own folder --------------------------------------------------------------------

def own_folder(models_dir: Path, repo_id: str) -> Path:
    return models_dir / folder_name(repo_id)


def own_model(folder: Path) -> LocalModel | None:
    """The model in one of vlagent's folders (pulled, or copied there by hand), or None."""
    if not folder.is_dir():
        return None
    manifest = read_manifest(folder)
    if manifest is not None:
        complete = bool(manifest.get("complete")) and weights_complete(folder)
        repo_id = str(manifest.get("id") or folder.name.replace("--", "/", 1))
    else:
        complete = weights_complete(folder)
        repo_id = folder.name.replace("--", "/", 1)
    return LocalModel(repo_id, folder, "vlagent", complete, manifest)


def own_models(models_dir: Path) -> list[LocalModel]:
    if not models_dir.is_dir():
        return []
    found = (own_model(p) for p in sorted(models_dir.iterdir()) if not p.name.startswith("."))
    return [m for m in found if m is not None]


# --- other tools' caches ---------------------------------------------------------------------

def hf_cache_dir() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def modelscope_cache_dir() -> Path:
    return Path(os.environ.get("MODELSCOPE_CACHE") or Path.home() / ".cache" / "modelscope").expanduser()


def _newest_complete(snapshots: list[Path]) -> Path | None:
    done = [s for s in snapshots if weights_complete(s)]
    return max(done, key=lambda p: p.stat().st_mtime) if done else None


def hf_cached(repo_id: str, cache: Path | None = None) -> Path | None:
    """The Hugging Face cache snapshot of ``repo_id`` (the ``main`` ref first) if it is complete."""
    storage = (cache or hf_cache_dir()) / f"models--{repo_id.replace('/', '--')}"
    ref = storage / "refs" / "main"
    if ref.is_file():
        snap = storage / "snapshots" / ref.read_text(encoding="utf-8").strip()
        if weights_complete(snap):
            return snap
    snapshots = storage / "snapshots"
    return _newest_complete(list(snapshots.iterdir())) if snapshots.is_dir() else None


def modelscope_candidates(repo_id: str, cache: Path | None = None) -> list[Path]:
    """Folders where the ModelScope SDK puts ``repo_id``: the current layout's snapshots, then the
    older ones (dots in the name written as ``___``, with and without ``hub/``)."""
    base = cache or modelscope_cache_dir()
    owner, name = repo_id.split("/", 1)
    old = name.replace(".", "___")
    out: list[Path] = []
    snaps = base / "models" / f"{owner}--{name}" / "snapshots"
    if snaps.is_dir():
        out += sorted(snaps.iterdir())
    out += [base / "models" / owner / old, base / "hub" / "models" / owner / old, base / "hub" / owner / old]
    return out


def modelscope_cached(repo_id: str, cache: Path | None = None) -> Path | None:
    return _newest_complete([p for p in modelscope_candidates(repo_id, cache) if p.is_dir()])


def find(repo_id: str, models_dir: Path) -> LocalModel | None:
    """A complete local copy of ``repo_id``: vlagent's folder, then the HF cache, then ModelScope's."""
    own = own_model(own_folder(models_dir, repo_id))
    if own is not None and own.complete:
        return own
    hf = hf_cached(repo_id)
    if hf is not None:
        return LocalModel(repo_id, hf, "huggingface-cache", True)
    ms = modelscope_cached(repo_id)
    if ms is not None:
        return LocalModel(repo_id, ms, "modelscope-cache", True)
    return None


def is_vision_model(folder: Path) -> bool:
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and "vision_config" in config


def cached_vision_models() -> list[LocalModel]:
    """Complete vision-language models in the HF and ModelScope caches (others are not listed)."""
    out: list[LocalModel] = []
    hf = hf_cache_dir()
    if hf.is_dir():
        for storage in sorted(hf.glob("models--*--*")):
            repo_id = storage.name[len("models--"):].replace("--", "/", 1)
            snap = hf_cached(repo_id, hf)
            if snap is not None and is_vision_model(snap):
                out.append(LocalModel(repo_id, snap, "huggingface-cache", True))
    ms = modelscope_cache_dir()
    new_layout = sorted((ms / "models").glob("*--*")) if (ms / "models").is_dir() else []
    for storage in new_layout:
        repo_id = storage.name.replace("--", "/", 1)
        snap = modelscope_cached(repo_id, ms)
        if snap is not None and is_vision_model(snap):
            out.append(LocalModel(repo_id, snap, "modelscope-cache", True))
    return out
