"""Pull from the Hugging Face Hub (or a mirror named by ``HF_ENDPOINT``) with huggingface_hub.

huggingface_hub's own ``snapshot_download`` resumes a dropped connection within one run but
throws a half-downloaded file away when the process ends, so a Ctrl-C 3 GB into a 4 GB shard
would start that shard again. Here the listing (``model_info``) and the transfer (``http_get``:
Range requests, retries, the 200-instead-of-206 case) are huggingface_hub's, while each file is
received into a part file named after its content hash in ``.partial/`` that outlives the
process: the next pull continues from its last byte. Every file is checked against the hash the
Hub lists (sha256 for LFS files, the git blob id for the rest) before it is moved into place.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from vlagent.vlm.hub.errors import PullError, is_network_error, network_reason
from vlagent.vlm.hub.progress import ByteSink, tqdm_adapter
from vlagent.vlm.hub.store import PARTIAL

HUB = "huggingface"
DEFAULT_REVISION = "main"


def list_files(repo_id: str, revision: str | None) -> tuple[str, list[dict]]:
    """The commit ``revision`` points at, and every file with its size and content hash."""
    from huggingface_hub import HfApi

    try:
        info = HfApi().model_info(repo_id, revision=revision, files_metadata=True)
    except Exception as e:  # noqa: BLE001 - translated into one sentence
        raise _translate(e, repo_id, revision) from None
    files = []
    for s in info.siblings or []:
        sha256 = s.lfs.sha256 if s.lfs is not None else None
        files.append({"name": s.rfilename, "size": s.size if s.size is not None else (s.lfs.size if s.lfs else None),
                      "etag": sha256 or s.blob_id, "sha256": sha256, "blob_id": s.blob_id})
    return str(info.sha), files


def _part(dest: Path, entry: dict) -> Path:
    return dest / PARTIAL / f"{entry['etag'] or entry['name']}.part"


def resumed_bytes(dest: Path, entries: list[dict]) -> int:
    """Bytes already received by an earlier, interrupted pull of these files."""
    total = 0
    for e in entries:
        part = _part(dest, e)
        if part.is_file() and (e["size"] is None or part.stat().st_size <= e["size"]):
            total += part.stat().st_size
    return total


def download(repo_id: str, commit: str, dest: Path, entries: list[dict], sink: ByteSink, done) -> None:
    """Fetch the files one after another (a Ctrl-C stops at once and keeps the part file)."""
    for entry in entries:
        fetch(repo_id, commit, entry, dest, sink)
        done(entry)


def fetch(repo_id: str, commit: str, entry: dict, dest: Path, sink: ByteSink) -> None:
    """Download one file to ``dest / entry['name']``, resuming its part file if one is there."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers

    part = _part(dest, entry)
    part.parent.mkdir(parents=True, exist_ok=True)
    size = entry["size"]
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:  # not a prefix of this file
        part.unlink()
        have = 0
    url = hf_hub_url(repo_id, entry["name"], revision=commit)
    try:
        with part.open("ab") as f:
            http_get(url, f, resume_size=have, headers=build_hf_headers(), expected_size=size,
                     displayed_filename=entry["name"], tqdm_class=tqdm_adapter(sink))
    except Exception as e:  # noqa: BLE001
        raise _translate(e, repo_id, commit, entry["name"]) from None
    if not _matches(part, entry):
        part.unlink()
        raise PullError(f"{entry['name']} from Hugging Face did not match its checksum (the download was "
                        f"corrupted); run the same pull again")
    target = dest / entry["name"]
    part.replace(target)


def _matches(path: Path, entry: dict) -> bool:
    if entry.get("sha256"):
        h = hashlib.sha256()
    elif entry.get("blob_id"):
        h = hashlib.sha1()  # git blob id: sha1 of "blob <size>\0" + content
        h.update(f"blob {path.stat().st_size}\0".encode())
    else:
        return entry["size"] is None or path.stat().st_size == entry["size"]
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest() == (entry.get("sha256") or entry["blob_id"])


def _endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def _translate(e: Exception, repo_id: str, revision: str | None, filename: str | None = None) -> Exception:
    """One sentence that says what failed and what to try."""
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    what = f"{filename} of {repo_id}" if filename else repo_id
    if isinstance(e, OfflineModeIsEnabled):
        return PullError(f"cannot download {repo_id}: Hugging Face downloads are switched off (HF_HUB_OFFLINE is "
                         f"set); unset HF_HUB_OFFLINE, or copy the model folder to this machine and pass its path "
                         f"with --model")
    if isinstance(e, GatedRepoError):
        return PullError(f"{repo_id} is gated on Hugging Face: accept its terms on the model page and log in "
                         f"(hf auth login), then pull again")
    if isinstance(e, RevisionNotFoundError):
        return PullError(f"Hugging Face has no revision {revision!r} of {repo_id}; check --revision")
    if isinstance(e, RepositoryNotFoundError):
        return PullError(f"Hugging Face has no model {repo_id} (or it is private: log in with hf auth login); "
                         f"check the id")
    if isinstance(e, HfHubHTTPError):
        status = e.response.status_code if e.response is not None else "?"
        return PullError(f"Hugging Face ({_endpoint()}) answered HTTP {status} for {what}; try again later, "
                         f"or try --hub modelscope")
    if is_network_error(e):
        return PullError(f"could not reach Hugging Face at {_endpoint()} to download {what} "
                         f"({network_reason(e)}); try --hub modelscope, a proxy (HTTPS_PROXY) or a mirror "
                         f"(HF_ENDPOINT), or copy the model folder here and pass its path with --model")
    if isinstance(e, OSError) and e.errno == 28:
        return PullError(f"the disk is full while downloading {what}; free some space and pull again "
                         f"(the download resumes)")
    return e
