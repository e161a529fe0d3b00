"""A model hub on loopback: the few Hugging Face and ModelScope endpoints a model download uses.

Tests and ``bench/pull.py`` point the real clients at it (``HF_ENDPOINT``, ``MODELSCOPE_ENDPOINT``)
to exercise the real download code where the real hubs can't be reached. It serves folders of
files as repos and can misbehave on purpose: drop the connection part-way through a file, or
stall there until told to go on (to interrupt a pull from outside). It records every request.

Hugging Face: ``GET /api/models/{id}[/revision/{rev}]`` (siblings with size, blobId, lfs sha256),
``GET /api/models/{id}/tree/{rev}`` (the same as a file tree), ``HEAD|GET /{id}/resolve/{rev}/{file}``
(ETag, X-Repo-Commit, Content-Length, Range → 206).
ModelScope: ``GET /api/v1/models/{id}/repo/files`` and ``GET /api/v1/models/{id}/repo?FilePath=``.

    python -m vlagent.dev.fake_hub Qwen/Tiny=DIR [--port 8000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

LFS_SUFFIXES = (".safetensors", ".bin", ".gguf", ".onnx")


@dataclass
class Repo:
    files: dict[str, bytes]
    commit: str = ""

    def __post_init__(self):
        if not self.commit:
            h = hashlib.sha1()
            for name in sorted(self.files):
                h.update(name.encode() + hashlib.sha256(self.files[name]).digest())
            self.commit = h.hexdigest()

    @classmethod
    def from_folder(cls, folder: Path) -> Repo:
        return cls({p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
                    if p.is_file()})

    def blob_id(self, name: str) -> str:
        data = self.files[name]
        return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()

    def sha256(self, name: str) -> str:
        return hashlib.sha256(self.files[name]).hexdigest()

    def is_lfs(self, name: str) -> bool:
        return name.endswith(LFS_SUFFIXES)

    def etag(self, name: str) -> str:
        return self.sha256(name) if self.is_lfs(name) else self.blob_id(name)


@dataclass
class Fault:
    after: int  # bytes of the body sent before misbehaving
    times: int = 1  # how many GETs of the file misbehave
    stall: threading.Event | None = None  # None: drop the connection; an Event: wait for it, then drop


@dataclass
class FakeHub:
    repos: dict[str, Repo] = field(default_factory=dict)
    faults: dict[str, Fault] = field(default_factory=dict)  # file name -> fault
    requests: list[dict] = field(default_factory=list)
    chunk: int = 64 * 1024
    sent: dict[str, int] = field(default_factory=dict)  # body bytes sent per file, all requests

    def __post_init__(self):
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # --- lifecycle ---------------------------------------------------------------------
    def start(self, port: int = 0) -> FakeHub:
        hub = self

        class Handler(_Handler):
            owner = hub

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        for fault in self.faults.values():
            if fault.stall is not None:
                fault.stall.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self) -> FakeHub:
        return self.start() if self.server is None else self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- bookkeeping -------------------------------------------------------------------
    def record(self, **req) -> None:
        with self._lock:
            self.requests.append(req)

    def count_sent(self, name: str, n: int) -> None:
        with self._lock:
            self.sent[name] = self.sent.get(name, 0) + n

    def take_fault(self, name: str) -> Fault | None:
        with self._lock:
            fault = self.faults.get(name)
            if fault is None or fault.times <= 0:
                return None
            fault.times -= 1
            return fault

    def file_gets(self, name: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == "GET" and r.get("file") == name]


_HF_INFO = re.compile(r"^/api/models/([^/]+/[^/]+?)(?:/revision/([^/]+))?$")
_HF_TREE = re.compile(r"^/api/models/([^/]+/[^/]+)/tree/([^/]+)/?$")
_HF_FILE = re.compile(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")
_MS_FILES = re.compile(r"^/api/v1/models/([^/]+/[^/]+)/repo/files$")
_MS_FILE = re.compile(r"^/api/v1/models/([^/]+/[^/]+)/repo$")


class _Handler(BaseHTTPRequestHandler):
    owner: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    # --- dispatch ----------------------------------------------------------------------
    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def do_GET(self) -> None:
        self._dispatch(head=False)

    def _dispatch(self, head: bool) -> None:
        url = urlsplit(self.path)
        path, query = unquote(url.path), {k: v[-1] for k, v in parse_qs(url.query).items()}
        hub = self.owner
        if m := _HF_INFO.match(path):
            return self._hf_info(m.group(1), m.group(2) or "main", head)
        if m := _HF_TREE.match(path):
            return self._hf_tree(m.group(1), m.group(2))
        if m := _HF_FILE.match(path):
            return self._file(m.group(1), m.group(2), m.group(3), head, hf=True)
        if m := _MS_FILES.match(path):
            return self._ms_files(m.group(1), query.get("Revision", "master"))
        if m := _MS_FILE.match(path):
            return self._file(m.group(1), query.get("Revision", "master"), query.get("FilePath", ""), head, hf=False)
        hub.record(method=self.command, path=path)
        self._json(404, {"error": "not found", "Code": 404, "Message": "not found", "Success": False})

    # --- helpers -----------------------------------------------------------------------
    def _repo(self, repo_id: str, revision: str, hf: bool) -> Repo | None:
        repo = self.owner.repos.get(repo_id)
        if repo is None:
            if hf:
                self._json(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
            else:
                self._json(404, {"Code": 10010205001, "Message": "model not exist", "Success": False})
            return None
        if revision not in ("main", "master", repo.commit):
            if hf:
                self._json(404, {"error": "Invalid rev id"}, {"X-Error-Code": "RevisionNotFound"})
            else:
                self._json(404, {"Code": 10010205001, "Message": "revision not exist", "Success": False})
            return None
        return repo

    def _json(self, status: int, body, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    # --- endpoints ---------------------------------------------------------------------
    def _hf_info(self, repo_id: str, revision: str, head: bool) -> None:
        self.owner.record(method=self.command, path=self.path, kind="info")
        repo = self._repo(repo_id, revision, hf=True)
        if repo is None:
            return
        siblings = []
        for name, data in sorted(repo.files.items()):
            s = {"rfilename": name, "size": len(data), "blobId": repo.blob_id(name)}
            if repo.is_lfs(name):
                s["lfs"] = {"sha256": repo.sha256(name), "size": len(data), "pointerSize": 134}
            siblings.append(s)
        self._json(200, {"_id": repo.commit[:24], "id": repo_id, "modelId": repo_id, "sha": repo.commit,
                         "private": False, "disabled": False, "gated": False, "tags": [], "siblings": siblings})

    def _hf_tree(self, repo_id: str, revision: str) -> None:
        self.owner.record(method=self.command, path=self.path, kind="tree")
        repo = self._repo(repo_id, revision, hf=True)
        if repo is None:
            return
        entries: list[dict] = []
        folders: set[str] = set()
        for name, data in sorted(repo.files.items()):
            parts = name.split("/")
            folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
            e = {"type": "file", "path": name, "size": len(data), "oid": repo.blob_id(name)}
            if repo.is_lfs(name):
                e["lfs"] = {"oid": repo.sha256(name), "size": len(data), "pointerSize": 134}
            entries.append(e)
        entries += [{"type": "directory", "path": f, "size": 0, "oid": hashlib.sha1(f.encode()).hexdigest()}
                    for f in sorted(folders)]
        self._json(200, entries)

    def _ms_files(self, repo_id: str, revision: str) -> None:
        self.owner.record(method=self.command, path=self.path, kind="files")
        repo = self._repo(repo_id, revision, hf=False)
        if repo is None:
            return
        files = [{"Name": name.rsplit("/", 1)[-1], "Path": name, "Type": "blob", "Size": len(data),
                  "Sha256": repo.sha256(name), "Revision": repo.commit} for name, data in sorted(repo.files.items())]
        self._json(200, {"Code": 200, "Data": {"Files": files}, "Message": "success", "Success": True})

    def _file(self, repo_id: str, revision: str, name: str, head: bool, hf: bool) -> None:
        rng = self.headers.get("Range")
        self.owner.record(method=self.command, path=self.path, file=name, range=rng)
        repo = self._repo(repo_id, revision, hf)
        if repo is None:
            return
        if name not in repo.files:
            self._json(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound",
                                                           "X-Repo-Commit": repo.commit})
            return
        data = repo.files[name]
        start = 0
        if rng and (m := re.match(r"bytes=(\d+)-$", rng.strip())):
            start = int(m.group(1))
            if start >= len(data) > 0:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        body = data[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{repo.etag(name)}"')
        self.send_header("X-Repo-Commit", repo.commit)
        if repo.is_lfs(name):
            self.send_header("X-Linked-Etag", f'"{repo.sha256(name)}"')
            self.send_header("X-Linked-Size", str(len(data)))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if head:
            return
        fault = self.owner.take_fault(name)
        limit = len(body) if fault is None else min(len(body), max(0, fault.after - start))
        sent = 0
        try:
            while sent < limit:
                piece = body[sent:min(limit, sent + self.owner.chunk)]
                self.wfile.write(piece)
                sent += len(piece)
                self.owner.count_sent(name, len(piece))
            self.wfile.flush()
            if fault is not None:
                if fault.stall is not None:
                    fault.stall.wait(60)
                self.close_connection = True
                self.connection.shutdown(2)  # drop it mid-body: the client sees a short read
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vlagent.dev.fake_hub", description=__doc__.split("\n\n")[0])
    ap.add_argument("repos", nargs="+", metavar="ID=DIR", help="serve the files of DIR as model ID")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    hub = FakeHub({rid: Repo.from_folder(Path(d)) for rid, d in (r.split("=", 1) for r in args.repos)})
    hub.start(args.port)
    print(f"serving on {hub.url}  (HF_ENDPOINT={hub.url}  MODELSCOPE_ENDPOINT={hub.url})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        hub.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


def checkpoint_files(big_shard_bytes: int = 12 * 1024 * 1024, seed: int = 0) -> dict[str, bytes]:
    """A two-shard safetensors checkpoint with the file names of a Qwen-VL repo, plus files a pull
    must skip (other weight formats, a README, a subfolder). Weights are random: it is for
    transfers, not for loading (``python -m vlagent.dev.tiny_model`` makes one that loads)."""
    import numpy as np
    from safetensors.numpy import save

    rng = np.random.default_rng(seed)
    big = {"model.embed_tokens.weight": rng.standard_normal(big_shard_bytes // 4, dtype=np.float32)}
    small = {"lm_head.weight": rng.standard_normal(4096, dtype=np.float32)}
    index = {"metadata": {"total_size": big_shard_bytes + 4096 * 4},
             "weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors",
                            "lm_head.weight": "model-00002-of-00002.safetensors"}}
    js = lambda obj: json.dumps(obj, indent=2).encode()  # noqa: E731
    return {
        "config.json": js({"architectures": ["Qwen2_5_VLForConditionalGeneration"], "model_type": "qwen2_5_vl",
                           "vision_config": {"depth": 2}}),
        "generation_config.json": js({"do_sample": False}),
        "model.safetensors.index.json": js(index),
        "model-00001-of-00002.safetensors": save(big),
        "model-00002-of-00002.safetensors": save(small),
        "tokenizer.json": js({"version": "1.0", "model": {"type": "BPE"}}),
        "tokenizer_config.json": js({"model_max_length": 32768}),
        "vocab.json": js({"a": 0}), "merges.txt": b"#version: 0.2\n",
        "preprocessor_config.json": js({"patch_size": 14}), "chat_template.json": js({"chat_template": ""}),
        "pytorch_model.bin": b"\0" * 2048, "model.gguf": b"GGUF" + b"\0" * 1024, "README.md": b"# tiny\n",
        "onnx/model.safetensors": b"\0" * 512, ".gitattributes": b"*.safetensors filter=lfs\n",
    }
