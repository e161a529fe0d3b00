"""A generated corpus of hostile names and files — bytes that are not UTF-8, terminal escapes,
line breaks, leading dashes, spaces, very long names, CJK, dangling symlinks, a 0-byte file, a
truncated PNG, a text file named .png, an AVIF — through ``index``, ``watch --once``, ``search
--json``, ``show``, ``export`` and the HTTP API: every good file is indexed exactly once with its
exact bytes, every bad one reported once with its reason, and no name reaches the terminal raw.

Every CLI run prints through a strict UTF-8 stdout/stderr (``PYTHONIOENCODING=utf-8:strict``),
so a name printed unescaped is a crash, not a silent pass."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.conftest import cli_env, run_cli
from vlagent.samples import photo_like

# name (bytes, relative to the corpus folder) of each good image
GOOD = [
    b"plain.png",
    b"b_\xff.png",  # not UTF-8
    b"lat\xe9in1 \xe9t\xe9.jpg",  # Latin-1
    b"title_\x1b]0;pwned\x07.png",  # sets the terminal title
    b"red_\x1b[31m.png",  # turns the terminal red
    b"nl\n  failed [fake]: forged line.png",  # forges a report line
    b"-dash.png",
    b"--help.png",
    b"  spaced  name .png",
    b"tab\there.png",
    b"L" * 246 + b".png",  # 250 bytes: near NAME_MAX
    "截图 小狗 2024.png".encode(),
    "rtl_\u202egnp.exe.png".encode(),
    b"sub_\xfe/inner.png",  # inside a folder whose name is not UTF-8
]
# name → the error type it is reported with
BAD = {
    b"dangling.png": "broken_link",
    b"empty.png": "empty",
    b"truncated.png": "corrupt",
    b"text.png": "not_an_image",
    b"bad_\xff\x1b[31m\n.png": "empty",  # a bad file with a hostile name: its report line is escaped too
}
SKIPPED = [b"readme.txt", b"\xff\x1b[31m.txt"]  # no image type: skipped, reported as such
FORBIDDEN = ("\x1b", "\x07", "\ufffd")  # raw escapes on the terminal; a lossy decode


def avif_writable() -> bool:
    Image.init()
    return "AVIF" in Image.SAVE and "AVIF" in Image.OPEN


def make_corpus(root: Path) -> tuple[list[bytes], dict[bytes, str]]:
    """Write the corpus under ``root``; returns the absolute paths (bytes) of the good images
    and of the bad files (→ their error type)."""
    base = os.fsencode(root)
    good = list(GOOD) + ([b"photo.avif"] if avif_writable() else [])
    for i, name in enumerate(good):
        path = os.path.join(base, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        image = photo_like(64 + i, 48, seed=100 + i)  # each a different picture
        image.save(os.fsdecode(path), format="AVIF" if name.endswith(b".avif") else None)
    os.symlink(os.path.join(base, b"nowhere", b"gone.png"), os.path.join(base, b"dangling.png"))
    for name in (b"empty.png", b"bad_\xff\x1b[31m\n.png"):
        open(os.path.join(base, name), "wb").close()
    png = os.path.join(base, b"plain.png")
    with open(png, "rb") as f:
        data = f.read()
    with open(os.path.join(base, b"truncated.png"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(os.path.join(base, b"text.png"), "w") as f:
        f.write("hello, I am text\n")
    for name in SKIPPED:
        with open(os.path.join(base, name), "w") as f:
            f.write("notes\n")
    return [os.path.join(base, n) for n in good], {os.path.join(base, n): t for n, t in BAD.items()}


def cli(home: Path, *args) -> tuple[int, str, str]:
    env = cli_env(home, PYTHONIOENCODING="utf-8:strict", LC_ALL="C.UTF-8")
    proc = run_cli(*args, env=env, timeout=300)
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")  # strict: valid UTF-8 only
    assert "Traceback" not in err, err
    return proc.returncode, out, err


def exact(record: dict, key: str = "path") -> bytes:
    """The exact bytes of a path in JSON: ``<key>_b64`` when it is not UTF-8, else the text."""
    if f"{key}_b64" in record:
        return base64.b64decode(record[f"{key}_b64"])
    return os.fsencode(record[key])


def assert_no_raw_names(text: str) -> None:
    for c in FORBIDDEN:
        assert c not in text, f"{c!r} printed raw:\n{text}"
    assert not any(line.lstrip().startswith("failed [fake]") for line in text.splitlines()), text


def shown(path: bytes) -> str:
    from vlagent.common import display_path

    return display_path(path)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile") / "corpus"
    root.mkdir()
    good, bad = make_corpus(root)
    return root, good, bad


@pytest.fixture(scope="module")
def indexed(corpus, tmp_path_factory):
    """``index`` of the corpus (OCR included) into a fresh home."""
    root, good, bad = corpus
    home = tmp_path_factory.mktemp("hostile-home") / "home"
    rc, out, err = cli(home, "index", root, "--json")
    return home, rc, json.loads(out), err


def test_index_records_every_good_file_once_and_reports_every_bad_one_once(corpus, indexed):
    root, good, bad = corpus
    home, rc, s, _ = indexed
    assert rc == 23  # partial: the bad files failed, the rest is indexed
    assert (s["files"], s["new"], s["duplicate"], s["failed"]) == (len(good) + len(bad), len(good), 0, len(bad))
    failures = {exact(f): f["type"] for f in s["failures"]}
    assert len(s["failures"]) == len(bad) and failures == bad
    link = next(f for f in s["failures"] if f["type"] == "broken_link")
    assert link["error"].endswith(f"points to {root}/nowhere/gone.png, which does not exist")
    assert sorted(exact(f) for f in s["skipped_files"]) == sorted(os.path.join(os.fsencode(root), n)
                                                                for n in SKIPPED)
    assert s["skipped"] == len(SKIPPED) and s["skipped_why"] == {"not_image": len(SKIPPED)}
    assert s["jobs"] == {"ocr_done": len(good)}  # every image read back from its exact path


def test_index_prints_every_name_escaped(corpus, indexed):
    root, good, bad = corpus
    home = indexed[0]
    rc, out, err = cli(home, "index", root)
    assert rc == 23
    assert f"{len(good) + len(bad)} files in" in out
    assert f"{len(good)} unchanged, {len(bad)} failed, {len(SKIPPED)} skipped" in out
    assert "skipped types: .txt 2" in out
    assert_no_raw_names(out + err)
    lines = err.splitlines()
    for path, kind in bad.items():
        (line,) = [ln for ln in lines if ln.startswith(f"  failed [{kind}]: {shown(path)}:")]
    assert "  failed [empty]: " + shown(os.path.join(os.fsencode(root), b"bad_\xff\x1b[31m\n.png")) \
        + ": the file is empty (0 bytes)" in lines
    assert shown(b"bad_\xff\x1b[31m\n.png") == "bad_\\xff\\x1b[31m\\x0a.png"


def test_search_show_and_export_give_the_exact_bytes_back(corpus, indexed):
    root, good, bad = corpus
    home = indexed[0]
    rc, out, _ = cli(home, "search", "--json", "-n", "200")
    hits = json.loads(out)
    assert rc == 0 and sorted(exact(h) for h in hits) == sorted(good)  # each good file once, no bad one
    for h in hits:
        assert [base64.b64decode(p) if "paths_b64" in h else os.fsencode(p)
                for p in h.get("paths_b64", h["paths"])] == [exact(h)]
    rc, out, err = cli(home, "search", "-n", "200")
    assert rc == 0 and len(re.findall(r"^ *\d+\. #\d+  /", out, re.M)) == len(good)
    assert_no_raw_names(out + err)
    for path in good:
        assert f"  {shown(path)}\n" in out + "\n" or f"  {shown(path)}  [" in out
    # show, by the exact path given on the command line
    title = os.path.join(os.fsencode(root), b"title_\x1b]0;pwned\x07.png")
    rc, out, err = cli(home, "show", os.fsdecode(title))
    assert rc == 0 and f"file  {shown(title)}" in out
    assert_no_raw_names(out + err)
    for path in (title, os.path.join(os.fsencode(root), b"sub_\xfe/inner.png")):
        rc, out, _ = cli(home, "show", os.fsdecode(path), "--json")
        assert rc == 0 and exact(json.loads(out)) == path
    # export: JSON lines with the exact bytes, CSV with the escaped form
    rc, out, _ = cli(home, "export")
    records = [json.loads(line) for line in out.splitlines()]
    assert rc == 0 and sorted(exact(r) for r in records) == sorted(good)
    rc, out, _ = cli(home, "export", "--format", "csv")
    assert rc == 0 and "b_\\xff.png" in out and len(out.splitlines()) > len(good)


def test_the_api_answers_with_the_exact_bytes(corpus, indexed):
    from tests.api.conftest import start_serve

    root, good, bad = corpus
    home = indexed[0]
    served = start_serve(home)
    try:
        r = httpx.get(f"{served.base}/search", params={"q": "", "limit": 200}, headers=served.auth(), timeout=60)
        assert r.status_code == 200
        data = r.json()["data"]
        assert sorted(exact(d) for d in data) == sorted(good)
        bad_name = os.path.join(os.fsencode(root), b"b_\xff.png")
        (hit,) = [d for d in data if exact(d) == bad_name]
        assert hit["path"] == f"{root}/b_\\xff.png"
        r = httpx.get(f"{served.base}/images/{hit['image_id']}", headers=served.auth(), timeout=60)
        record = r.json()
        assert r.status_code == 200 and exact(record) == bad_name
        assert [exact(loc) for loc in record["locations"]] == [bad_name]
    finally:
        assert served.stop() == 0, served.log.read_text()


def test_watch_once_indexes_the_corpus_and_follows_a_deletion(corpus, tmp_path):
    """The watcher's start-up scan of such a folder: every good file indexed once, every bad
    one recorded once, and a deleted file (named in bytes that are not UTF-8) marked gone."""
    root, good, bad = corpus
    home = tmp_path / "home"
    rc, out, err = cli(home, "watch", "--once", "--json", root)
    assert rc == 0, err
    summary = json.loads(out)
    assert summary["files"] == {"new": len(good), "failed": len(bad), "skipped": len(SKIPPED)}
    assert summary["jobs_done"] == len(good) and summary["clean"]
    rc, out, _ = cli(home, "search", "--json", "-n", "200")
    assert sorted(exact(h) for h in json.loads(out)) == sorted(good)
    rc, out, _ = cli(home, "status", "--json", "--failures")
    assert sorted(exact(f) for f in json.loads(out)["recent_failures"]) == sorted(bad)
    # Gone while nobody watched: the next start-up scan marks it gone.
    victim = os.path.join(os.fsencode(root), b"lat\xe9in1 \xe9t\xe9.jpg")
    moved_away = os.path.join(os.fsencode(tmp_path), b"away.jpg")
    os.rename(victim, moved_away)
    try:
        rc, out, err = cli(home, "watch", "--once", root)
        assert rc == 0, err
        assert_no_raw_names(out + err)
        assert "1 gone" in err and f"{len(SKIPPED)} skipped" in err and f"{shown(os.fsencode(root))}" in err
        rc, out, _ = cli(home, "search", "--json", "-n", "200")
        gone = {exact(h): h["gone"] for h in json.loads(out)}
        assert gone[victim] is True and sum(gone.values()) == 1 and sorted(gone) == sorted(good)
    finally:
        os.rename(moved_away, victim)
