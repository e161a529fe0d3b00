"""``kill -9`` of ``vlagent index`` mid-run, then a rerun: every image indexed exactly once.

Two kills: one while files are being ingested (300 files, OCR off so the phase is all
hash/decode/thumbnail/DB), one while OCR jobs run (on a 6-image subset: OCR costs about
a second per image on these shared cores, and the subset is enough to catch a job lost,
run twice or left running). The rerun on the subset also shows that re-indexing unchanged
files queues the OCR an earlier ``--no-ocr`` run skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.conftest import REPO, cli_env, run_cli
from vlagent.samples import text_image

N_PLAIN, N_COPIES, N_OCR = 300, 20, 6


def make_folder(root: Path) -> None:
    rng = random.Random(0)
    (root / "plain").mkdir(parents=True)
    (root / "copies").mkdir()
    (root / "ocr").mkdir()
    for i in range(N_PLAIN):
        img = Image.new("RGB", (96, 64), tuple(rng.randrange(256) for _ in range(3)))
        d = ImageDraw.Draw(img)
        for _ in range(3):
            x, y = rng.randrange(80), rng.randrange(48)
            d.rectangle([x, y, x + 16, y + 16], fill=tuple(rng.randrange(256) for _ in range(3)))
        img.save(root / "plain" / f"img_{i:03d}.png")
    for i in range(N_COPIES):
        (root / "copies" / f"copy_{i:02d}.png").write_bytes((root / "plain" / f"img_{i * 7:03d}.png").read_bytes())
    for i in range(N_OCR):
        text_image(f"item {i + 17}", font_size=20, margin=8).save(root / "ocr" / f"label_{i}.png")


def count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:  # schema not created yet
        return 0


def kill_when(args, home: Path, sql: str, threshold: int, timeout: float = 120) -> int:
    """Start ``vlagent ARGS``, SIGKILL it once ``sql`` counts ``threshold``; returns the count then."""
    proc = subprocess.Popen([sys.executable, "-m", "vlagent", *map(str, args)], cwd=str(REPO), env=cli_env(home),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            n = count(home / "index.db", sql)
            if n >= threshold:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                assert proc.returncode == -signal.SIGKILL, "it finished before it could be killed"
                return n
            if proc.poll() is not None:
                pytest.fail(f"vlagent exited ({proc.returncode}) before the kill: {proc.stderr.read().decode()}")
            time.sleep(0.005)
        pytest.fail("timed out waiting for progress")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_kill_9_then_rerun_indexes_everything_exactly_once(tmp_path, cjk_font_path):
    pics, home = tmp_path / "pics", tmp_path / "home"
    make_folder(pics)
    files = sorted(p for p in pics.rglob("*.png"))
    total = len(files)

    # 1. Kill while ingesting.
    at_kill = kill_when(["index", pics, "--no-ocr", "-q"], home, "SELECT count(*) FROM locations", 60)
    assert 60 <= at_kill < total
    # 2. Rerun to the end: what was recorded is unchanged, the rest is new.
    s = json.loads(run_cli("index", pics, "--no-ocr", "--json", home=home, check=True).stdout_text)
    assert s["failed"] == 0 and s["files"] == total
    assert s["new"] + s["duplicate"] + s["unchanged"] == total and s["unchanged"] >= at_kill - 1

    # 3. Kill while OCR runs on the subset (its files are unchanged: the rerun only adds OCR jobs).
    done_at_kill = kill_when(["index", pics / "ocr", "-q"], home,
                             "SELECT count(*) FROM results WHERE kind = 'ocr'", 2)
    assert 2 <= done_at_kill < N_OCR
    # 4. Rerun: the interrupted job is recovered, nothing is done twice.
    s = json.loads(run_cli("index", pics / "ocr", "--json", home=home, check=True).stdout_text)
    assert s["unchanged"] == N_OCR and s["failed"] == 0 and s["job_failures"] == []
    assert s["jobs"] == {"ocr_done": N_OCR - done_at_kill}

    db = sqlite3.connect(home / "index.db")
    q = lambda sql, *a: db.execute(sql, a).fetchall()  # noqa: E731
    sha_of = {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    # Images: one per distinct content; locations: one per file, pointing at its content.
    assert q("SELECT count(*) FROM images")[0][0] == len(set(sha_of.values())) == total - N_COPIES
    assert dict(q("SELECT l.path, i.sha256 FROM locations l JOIN images i ON i.id = l.image_id")) == sha_of
    assert q("SELECT count(*) FROM images WHERE id NOT IN (SELECT image_id FROM locations)")[0][0] == 0
    assert q("SELECT count(*) FROM search_docs")[0][0] == total - N_COPIES
    # Jobs and results: exactly one OCR job per subset image, done, with exactly one result.
    ocr_paths = {str(p) for p in files if p.parent.name == "ocr"}
    jobs = q("SELECT l.path, j.state, j.attempts FROM jobs j JOIN locations l ON l.image_id = j.image_id")
    assert sorted(p for p, _, _ in jobs) == sorted(ocr_paths)
    assert {state for _, state, _ in jobs} == {"done"}
    # Each job ran once, except at most the one in flight at the kill, which ran again.
    assert N_OCR <= sum(a for _, _, a in jobs) <= N_OCR + 1
    results = q("SELECT l.path, count(*) FROM results r JOIN locations l ON l.image_id = r.image_id GROUP BY r.image_id")
    assert sorted(results) == sorted((p, 1) for p in ocr_paths)
    texts = [t for (t,) in q("SELECT text FROM results")]
    assert sum("item" in t for t in texts) >= N_OCR // 2  # the OCR really read the labels
    assert q("SELECT count(*) FROM failures")[0][0] == 0
    # Thumbnails: one per image; a killed writer leaves at most a partial file aside.
    thumbs = {p.stem for p in (home / "thumbnails").glob("??/*.jpg")}
    assert thumbs == set(sha_of.values())
    assert len(os.listdir(home / "thumbnails" / ".partial")) <= 1
