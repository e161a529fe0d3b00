"""Getting models onto this machine and finding them again, without the network when they're here.

- :func:`pull` downloads the files a transformers Qwen-VL checkpoint needs from Hugging Face or
  ModelScope into ``VLAGENT_HOME/models/<owner>--<name>/`` (or ``to``), resumably, with progress.
- :func:`resolve_model` turns the ``vlm.model`` setting (a folder or a hub id) into a local folder,
  or raises :class:`~vlagent.vlm.base.ModelNotAvailable` saying what to run.
- :func:`list_models` / :func:`remove_model` back ``vlagent model list`` and ``rm``.

The on-disk layout and cache look-ups are in :mod:`vlagent.vlm.hub.store`; one module per hub.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vlagent.vlm.base import ModelNotAvailable, VlmError
from vlagent.vlm.hub import store
from vlagent.vlm.hub.errors import PullError
from vlagent.vlm.hub.progress import ByteSink, NullSink

if TYPE_CHECKING:
    from vlagent.settings import Settings

HUBS = ("huggingface", "modelscope")


def _handler(hub: str):
    if hub == "huggingface":
        from vlagent.vlm.hub import huggingface

        return huggingface
    if hub == "modelscope":
        from vlagent.vlm.hub import modelscope

        return modelscope
    raise PullError(f"unknown hub {hub!r}; choose one of: {', '.join(HUBS)}")


def _models_dir(home) -> Path:
    return home.models if hasattr(home, "models") else Path(home) / "models"


@dataclass
class PullResult:
    id: str
    hub: str
    path: Path
    revision: str
    commit: str | None
    files: int
    fetched_files: int
    bytes: int
    fetched_bytes: int
    seconds: float

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["path"] = str(self.path)
        return d


ProgressFactory = Callable[[int, int], ByteSink]  # (bytes to fetch, bytes already there from a past try)


def pull(repo_id: str, *, home, hub: str = "huggingface", revision: str | None = None,
         to: str | Path | None = None, progress: ProgressFactory | None = None) -> PullResult:
    """Download ``repo_id`` (only the files :func:`store.wanted` keeps); resumes an interrupted pull.

    The folder's manifest says ``complete: false`` until every file is in place, so an
    interrupted pull is never mistaken for a model, and the next pull continues it.
    """
    if not store.is_repo_id(repo_id):
        raise PullError(f"{repo_id!r} is not a hub model id (like Qwen/Qwen2.5-VL-3B-Instruct)")
    t0 = time.monotonic()
    handler = _handler(hub)
    dest = Path(to).expanduser().resolve() if to else store.own_folder(_models_dir(home), repo_id)
    manifest = store.read_manifest(dest)
    if manifest is None and dest.is_dir() and any(dest.iterdir()):
        raise PullError(f"{dest} is not empty and holds no model pulled by vlagent; choose an empty folder")

    commit, listing = handler.list_files(repo_id, revision)
    entries = [f for f in listing if store.wanted(f["name"])]
    names = {f["name"] for f in entries}
    if "config.json" not in names or not any(n.endswith(".safetensors") for n in names):
        raise PullError(f"{repo_id} on {hub} has no config.json with safetensors weights; vlagent loads "
                        f"transformers checkpoints in safetensors format only")

    if manifest is None or manifest.get("id") != repo_id or manifest.get("hub") != hub:
        manifest = store.new_manifest(repo_id, hub, revision)
    manifest.update(revision=revision or handler.DEFAULT_REVISION, commit=commit, complete=False)
    store.write_manifest(dest, manifest)

    def present(entry: dict) -> bool:
        rec = manifest["files"].get(entry["name"])
        path = dest / entry["name"]
        return (rec is not None and path.is_file() and rec.get("etag") == entry.get("etag")
                and (entry["size"] is None or path.stat().st_size == entry["size"]))

    todo = [e for e in entries if not present(e)]
    resumed = handler.resumed_bytes(dest, todo)
    sink = (progress or (lambda total, initial: NullSink()))(sum(e["size"] or 0 for e in todo) - resumed, resumed)

    def done(entry: dict) -> None:
        manifest["files"][entry["name"]] = {"size": entry["size"], "etag": entry.get("etag")}
        store.write_manifest(dest, manifest)

    handler.download(repo_id, commit or revision, dest, todo, sink, done)

    for stale in set(manifest["files"]) - names:  # left over from the revision pulled before
        (dest / stale).unlink(missing_ok=True)
        del manifest["files"][stale]
    shutil.rmtree(dest / store.PARTIAL, ignore_errors=True)
    manifest.update(complete=True, pulled_at=time.time())
    store.write_manifest(dest, manifest)
    return PullResult(repo_id, hub, dest, manifest["revision"], commit, len(entries), len(todo),
                      sum(e["size"] or 0 for e in entries), sum(e["size"] or 0 for e in todo),
                      time.monotonic() - t0)


def resolve_model(model: str, *, home, settings: Settings | None = None) -> Path:
    """The local folder for ``model`` (a folder path, or a hub id already downloaded). No network."""
    text = str(model).strip()
    path = Path(text).expanduser()
    if path.is_dir():
        if (path / "config.json").is_file():
            return path.resolve()
        raise ModelNotAvailable(f"{path} has no config.json; pass the folder that holds the model's config.json "
                                f"and weights")
    if not store.is_repo_id(text):
        raise ModelNotAvailable(f"there is no model folder at {path}, and {text!r} is not a hub id "
                                f"(like Qwen/Qwen2.5-VL-3B-Instruct)")
    found = store.find(text, _models_dir(home))
    if found is not None:
        return found.path
    hub = settings.view.vlm.hub if settings is not None else "huggingface"
    other = "modelscope" if hub == "huggingface" else "huggingface"
    command = f"vlagent model pull {text}" + ("" if hub == "huggingface" else f" --hub {hub}")
    own = store.own_model(store.own_folder(_models_dir(home), text))
    if own is not None:
        raise ModelNotAvailable(f"the download of model {text} is not finished; run: {command} (it continues "
                                f"where it stopped)")
    raise ModelNotAvailable(f"model {text} is not downloaded; run: {command} (or --hub {other})")


def list_models(home, settings: Settings | None = None) -> list[dict]:
    """vlagent's models (finished or not) and the vision-language models in the HF / ModelScope caches."""
    configured = settings.view.vlm.model if settings is not None else None
    configured_path = None
    if configured:
        try:
            configured_path = resolve_model(configured, home=home, settings=settings)
        except ModelNotAvailable:
            pass
    out, seen = [], set()
    for m in store.own_models(_models_dir(home)) + store.cached_vision_models():
        if m.path in seen:
            continue
        seen.add(m.path)
        m.size = store.folder_size(m.path)
        d = m.as_dict()
        d["configured"] = configured_path is not None and m.path.resolve() == configured_path.resolve()
        out.append(d)
    return out


def remove_model(ref: str, *, home) -> Path:
    """Delete one of vlagent's model folders (by hub id or folder name). Other tools' caches are left alone."""
    models = _models_dir(home)
    candidates = [models / store.folder_name(ref), models / ref] if "/" in ref or "--" in ref else [models / ref]
    for folder in candidates:
        if folder.is_dir() and folder.resolve().parent == models.resolve():
            shutil.rmtree(folder)
            return folder
    if store.is_repo_id(ref):
        found = store.find(ref, models)
        if found is not None:
            raise VlmError(f"{ref} is in the {found.source.replace('-', ' ')} at {found.path}, which vlagent does "
                           f"not manage; delete it with that tool (or remove the folder yourself)")
    raise VlmError(f"no model {ref!r} in {models}; see: vlagent model list")


__all__ = ["HUBS", "ModelNotAvailable", "PullError", "PullResult", "list_models", "pull", "remove_model",
           "resolve_model"]
