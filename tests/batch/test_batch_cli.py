"""``vlagent batch`` end to end in subprocesses: inputs of every kind, a kill mid-run and a rerun
that finishes every row exactly once, ``--into-index`` making the rows searchable, and the same
table on a real local Ray cluster (started and stopped by the command) giving the same results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.batch.conftest import BAD_KINDS, png_bytes
from tests.conftest import REPO, cli_env, run_cli

FLAGS = ["--max-caption-length", "6", "--batch-size", "1", "--dtype", "float32", "--allow-private-urls", "-q"]


@pytest.fixture(scope="module")
def batch_home(tmp_path_factory, tiny_model_dir):
    home = tmp_path_factory.mktemp("batch-home")
    (home / "config.toml").write_text(f'[vlm]\nmodel = "{tiny_model_dir}"\ncpu_quantize = false\n'
                                      f'[general]\nlanguage = "en"\n')
    return home


def write_jsonl(path, table) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for img, prompt in zip(table["images"], table["prompts"], strict=True):
            f.write(json.dumps({"images": img, "prompts": prompt, "note": "kept"}) + "\n")


def read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def test_jsonl_in_jsonl_out_keeps_columns_order_and_reports_errors(mixed_table, batch_home, tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, mixed_table)
    proc = run_cli("batch", src, "-o", out, *FLAGS, "--json", home=batch_home)
    assert proc.returncode == 3, proc.stderr_text  # some rows failed: the documented partial status
    summary = json.loads(proc.stdout_text)
    assert summary["complete"] and summary["described"] == len(mixed_table["images"])
    assert sum(summary["errors"].values()) == len(BAD_KINDS)
    rows = read_jsonl(out)
    assert [r["images"] for r in rows] == mixed_table["images"]
    assert all(r["note"] == "kept" for r in rows)
    for kind, r in zip(mixed_table["kinds"], rows, strict=True):
        assert (r["error"] is not None) == (kind in BAD_KINDS), (kind, r)
    assert not (tmp_path / "out.jsonl.parts").exists()


def test_a_folder_to_parquet_all_good_exits_zero(batch_home, tmp_path):
    import pyarrow.parquet as pq

    pics = tmp_path / "pics"
    (pics / "sub").mkdir(parents=True)
    for i in range(3):
        (pics / ("sub" if i else "") / f"f{i}.png").write_bytes(png_bytes([f"folder {i}"]))
    proc = run_cli("batch", pics, "-o", tmp_path / "o.parquet", *FLAGS, home=batch_home)
    assert proc.returncode == 0, proc.stderr_text
    t = pq.read_table(tmp_path / "o.parquet")
    assert t.num_rows == 3 and t.column("error").null_count == 3
    assert "3 rows: 3 described now" in proc.stdout_text


def test_killed_mid_run_then_rerun_finishes_every_row_exactly_once(batch_home, tmp_path, image_server):
    # Rows 0-3 are local files; rows 4-7 are URLs the server holds until released, so the first
    # run is still working when it is killed, with rows 0-3 committed.
    local = []
    for i in range(4):
        p = tmp_path / f"k{i}.png"
        p.write_bytes(png_bytes([f"kill test {i}"]))
        local.append(str(p))
    held = [f"{image_server.url}/hold/u{i}.png" for i in range(4)]
    src, out = tmp_path / "list.txt", tmp_path / "out.parquet"
    src.write_text("\n".join(local + held) + "\n")
    parts = tmp_path / "out.parquet.parts"
    proc = subprocess.Popen([sys.executable, "-m", "vlagent", "batch", str(src), "-o", str(out), *FLAGS,
                             "--part-rows", "2"], cwd=str(REPO), env=cli_env(batch_home),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (len(list(parts.glob("part-*.parquet"))) >= 2
                                                     and image_server.held.acquire(timeout=0.1)):
            assert proc.poll() is None, proc.communicate()
        assert len(list(parts.glob("part-*.parquet"))) >= 2, "the first rows were not committed in time"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        image_server.release()
    assert not out.exists()
    rerun = run_cli("batch", src, "-o", out, *FLAGS, "--part-rows", "2", "--json", home=batch_home)
    assert rerun.returncode == 0, rerun.stderr_text
    summary = json.loads(rerun.stdout_text)
    assert summary["done_before"] >= 2 and summary["done_before"] + summary["described"] == 8
    import pyarrow.parquet as pq

    t = pq.read_table(out)
    assert t.column("images").to_pylist() == local + held  # every row once, in input order
    assert t.column("error").null_count == 8


def test_a_rerun_with_other_parameters_refuses_the_old_parts(batch_home, tmp_path):
    src = tmp_path / "l.txt"
    p = tmp_path / "x.png"
    p.write_bytes(png_bytes(["params"]))
    src.write_text(f"{p}\n")
    parts = tmp_path / "o.jsonl.parts"
    parts.mkdir()
    (parts / "meta.json").write_text('{"other": "run"}')
    proc = run_cli("batch", src, "-o", tmp_path / "o.jsonl", *FLAGS, home=batch_home)
    assert proc.returncode == 1 and "--restart" in proc.stderr_text
    assert run_cli("batch", src, "-o", tmp_path / "o.jsonl", *FLAGS, "--restart", home=batch_home).returncode == 0


def test_into_index_makes_the_rows_searchable(batch_home, tmp_path, image_server):
    p = tmp_path / "doc.png"
    p.write_bytes(png_bytes(["Quarterly archive report", "季度归档报告"]))
    src = tmp_path / "in.txt"
    src.write_text(f"{p}\n{image_server.url}/u2.png\n")
    proc = run_cli("batch", src, "-o", tmp_path / "o.jsonl", *FLAGS, "--into-index", home=batch_home)
    assert proc.returncode == 0, proc.stderr_text
    assert "2 stored in the index" in proc.stdout_text
    for query in ("archive", "归档", "served image 2"):
        hits = json.loads(run_cli("search", query, "--json", home=batch_home, check=True).stdout_text)
        assert hits, query
    shown = json.loads(run_cli("show", str(hits[0]["id"]), "--json", home=batch_home, check=True).stdout_text)
    assert any(r["kind"] == "description" for r in shown["results"])


@pytest.mark.slow
def test_the_same_table_on_a_local_ray_cluster_gives_the_same_results(mixed_table, batch_home, tmp_path):
    pytest.importorskip("ray", reason="the [batch] extra (ray) is not installed")
    src = tmp_path / "in.jsonl"
    write_jsonl(src, mixed_table)
    native = run_cli("batch", src, "-o", tmp_path / "native.jsonl", *FLAGS, home=batch_home)
    ray = run_cli("batch", src, "-o", tmp_path / "ray.jsonl", *FLAGS, "--runner", "ray", "--actors", "1",
                  home=batch_home, timeout=600)
    assert native.returncode == ray.returncode == 3, ray.stderr_text[-3000:]
    keys = ("images", "description", "new_tokens", "prompt_tokens", "error_kind")
    a = [{k: r[k] for k in keys} for r in read_jsonl(tmp_path / "native.jsonl")]
    b = [{k: r[k] for k in keys} for r in read_jsonl(tmp_path / "ray.jsonl")]
    assert a == b and len(a) == len(mixed_table["images"])
    import psutil

    left = [p.info["cmdline"] for p in psutil.process_iter(["cmdline"])
            if any("raylet" in part or "gcs_server" in part for part in (p.info["cmdline"] or []))]
    assert left == []  # the command stopped the cluster it started
