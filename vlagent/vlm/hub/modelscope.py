"""Pull from ModelScope (the hub users in mainland China reach) with its own ``snapshot_download``.

The optional ``modelscope`` package (``pip install 'vlagent[modelscope]'``) keeps partial files
next to their targets and resumes them with Range requests on the next run, and checks each
file's sha256 from the listing; vlagent adds the file filter, one progress bar and the
manifest. ``MODELSCOPE_ENDPOINT`` points it at a mirror.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

from vlagent.vlm.hub.errors import PullError, is_network_error, network_reason
from vlagent.vlm.hub.progress import ByteSink, modelscope_callback

HUB = "modelscope"
DEFAULT_REVISION = "master"
INSTALL_HINT = ("ModelScope support is not installed; install it with: pip install 'vlagent[modelscope]' "
                "(or pip install modelscope), or use --hub huggingface")


def _require():
    try:
        import modelscope  # noqa: F401
    except ImportError:
        raise PullError(INSTALL_HINT) from None


def list_files(repo_id: str, revision: str | None) -> tuple[str | None, list[dict]]:
    """(commit, files): ModelScope's listing names no commit, so the first item is None."""
    _require()
    from modelscope.hub.api import HubApi

    try:
        files = HubApi().get_model_files(repo_id, revision=revision or DEFAULT_REVISION, recursive=True)
    except Exception as e:  # noqa: BLE001
        raise _translate(e, repo_id, revision) from None
    return None, [{"name": f["Path"], "size": f.get("Size"), "etag": None} for f in files]


def resumed_bytes(dest: Path, entries: list[dict]) -> int:
    return 0  # the SDK reports the bytes it resumes from through the progress callback itself


def download(repo_id: str, revision: str | None, dest: Path, entries: list[dict], sink: ByteSink, done) -> None:
    """Fetch ``entries`` into ``dest``; the SDK skips files already there with the listed size and hash."""
    if not entries:
        return
    _require()
    from modelscope import snapshot_download

    try:
        with _quiet_bars():
            snapshot_download(repo_id, revision=revision or DEFAULT_REVISION, local_dir=str(dest),
                              allow_patterns=[e["name"] for e in entries],
                              progress_callbacks=[modelscope_callback(sink)], max_workers=4)
    except Exception as e:  # noqa: BLE001
        raise _translate(e, repo_id, revision) from None
    for entry in entries:
        done(entry)


@contextlib.contextmanager
def _quiet_bars():
    """The SDK draws a tqdm bar per file; vlagent draws one bar for the whole pull instead."""
    try:
        from modelscope_hub import _download
    except ImportError:  # another SDK layout: its bars stay, nothing breaks
        yield
        return
    original = getattr(_download, "tqdm", None)
    if original is None:
        yield
        return
    _download.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        _download.tqdm = original


def _endpoint() -> str:
    try:
        from modelscope_hub.config import get_default_config

        endpoint = get_default_config().endpoint  # typed str | None; always a str once constructed
    except Exception:  # noqa: BLE001
        endpoint = None
    return endpoint or "https://www.modelscope.cn"


def _translate(e: Exception, repo_id: str, revision: str | None) -> Exception:
    cause = e.__cause__ if e.__cause__ is not None else e  # the SDK wraps some errors in requests' HTTPError
    names = {c.__name__ for c in type(cause).__mro__}
    if "NotExistError" in names or "RevisionNotFoundError" in names:
        rev = f" (revision {revision!r})" if revision else ""
        return PullError(f"ModelScope has no model {repo_id}{rev}; check the id, or try --hub huggingface")
    if names & {"AuthenticationError", "PermissionDeniedError"}:
        return PullError(f"ModelScope refused access to {repo_id}; log in (modelscope login) if it is private, "
                         f"or try --hub huggingface")
    if "FileDownloadError" in names:
        failed = getattr(cause, "failed_files", {}) or {}
        first = next(iter(failed.items()), None)
        detail = f" (first: {first[0]}: {first[1]})" if first else ""
        if first and is_network_error(first[1]):
            return PullError(f"lost the connection to ModelScope at {_endpoint()} while downloading {repo_id}"
                             f"{detail}; run the same pull again to continue where it stopped")
        return PullError(f"{len(failed) or 'some'} files of {repo_id} failed to download from ModelScope{detail}; "
                         f"run the same pull again to fetch only those")
    if "FileIntegrityError" in names:
        return PullError(f"a file of {repo_id} from ModelScope did not match its checksum ({cause}); "
                         f"run the same pull again")
    if is_network_error(cause):
        return PullError(f"could not reach ModelScope at {_endpoint()} to download {repo_id} "
                         f"({network_reason(cause)}); try --hub huggingface, a proxy (HTTPS_PROXY) or a mirror "
                         f"(MODELSCOPE_ENDPOINT), or copy the model folder here and pass its path with --model")
    if isinstance(cause, OSError) and cause.errno == 28:
        return PullError(f"the disk is full while downloading {repo_id}; free some space and pull again "
                         f"(the download resumes)")
    return e
