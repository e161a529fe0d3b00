"""The real CLI in a subprocess, end to end: index → search → show → status → export →
forget, plus config, doctor, --help and exit statuses."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import run_cli
from vlagent.samples import photo_like, text_image

EN = "Invoice 2024-0193 total 42.50"
ZH = "图片中有一只小狗站在雪地上"


def js(proc):
    assert proc.returncode == 0, proc.stderr_text
    return json.loads(proc.stdout_text)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, cjk_font_path):
    """One home with a few images indexed with OCR (shared: OCR is the slow part)."""
    base = tmp_path_factory.mktemp("e2e")
    home, pics = base / "home", base / "pics"
    (pics / "sub").mkdir(parents=True)
    text_image(EN, font_size=28).save(pics / "invoice.png")
    text_image(ZH, font_size=32).save(pics / "dog_note.png")
    shutil.copy(pics / "dog_note.png", pics / "sub" / "dog copy.png")
    photo_like(320, 240, seed=1).save(pics / "landscape.jpg")
    summary = js(run_cli("index", pics, "--json", home=home))
    return home, pics, summary


def search(home, *words, **kw):
    args = ["search", *words, "--json"] + [x for k, v in kw.items() for x in (f"--{k}", v)]
    return js(run_cli(*args, home=home))


def test_index_summary(indexed):
    _, pics, s = indexed
    assert (s["files"], s["new"], s["duplicate"], s["failed"]) == (4, 3, 1, 0)
    assert s["jobs"] == {"ocr_done": 3} and s["failures"] == [] and s["job_failures"] == []


def test_search_returns_the_documented_fields(indexed):
    home, pics, _ = indexed
    (hit,) = search(home, "invoice", "42.50")
    for key in ("id", "path", "paths", "score", "snippet", "ocr_text", "description", "source", "width", "height"):
        assert key in hit, key
    assert hit["path"] == str(pics / "invoice.png") and hit["paths"] == [hit["path"]]
    assert "42.50" in hit["ocr_text"] and "42.50" in hit["snippet"]
    assert hit["source"] == "import" and hit["description"] == ""
    assert isinstance(hit["score"], float) and hit["width"] > hit["height"] > 0


def test_search_chinese_finds_both_copies_as_one_image(indexed):
    home, pics, _ = indexed
    (hit,) = search(home, "小狗")
    assert sorted(hit["paths"]) == sorted([str(pics / "dog_note.png"), str(pics / "sub" / "dog copy.png")])
    assert "小狗" in hit["ocr_text"]
    assert search(home, "no-such-words-anywhere") == []


def test_search_filters(indexed):
    home, pics, _ = indexed
    assert len(search(home, "小狗", source="import", limit="1")) == 1
    assert search(home, "小狗", source="screenshot") == []
    assert len(search(home, "小狗", folder=str(pics / "sub"))) == 1
    assert search(home, "invoice", folder=str(pics / "sub")) == []
    assert len(search(home, "invoice", since="1d")) == 1
    assert search(home, "invoice", until="2001-01-01") == []
    recent = search(home)  # no words: the most recent images
    assert len(recent) == 3 and len(search(home, limit="2")) == 2
    bad = run_cli("search", "x", "--since", "someday", home=home)
    assert bad.returncode == 2 and "cannot read the date" in bad.stderr_text


def test_show_by_id_and_by_path(indexed):
    home, pics, _ = indexed
    (hit,) = search(home, "invoice")
    by_id = js(run_cli("show", hit["id"], "--json", home=home))
    by_path = js(run_cli("show", pics / "invoice.png", "--json", home=home))
    assert by_id["id"] == by_path["id"] == hit["id"]
    assert [j["state"] for j in by_id["jobs"]] == ["done"]
    assert by_id["results"][0]["kind"] == "ocr" and "lines" not in by_id["results"][0]
    text = run_cli("show", hit["id"], home=home)
    assert text.returncode == 0 and "[ocr] rapidocr" in text.stdout_text and "42.50" in text.stdout_text
    missing = run_cli("show", "999999", home=home)
    assert missing.returncode == 2 and "no image matches" in missing.stderr_text


def test_status_counts_jobs_and_db_size(indexed):
    home, _, _ = indexed
    st = js(run_cli("status", "--json", home=home))
    assert st["images"] == 3 and st["locations"] == 4
    assert st["queue"] == {"pending": 0, "running": 0, "done": 3, "failed": 0}
    assert st["jobs"] == {"ocr": {"done": 3}} and st["results"] == {"ocr": 3}
    assert st["db_bytes"] > 0


def test_export_jsonl_and_csv_parse_back(indexed):
    home, pics, _ = indexed
    rows = [json.loads(line) for line in js_lines(run_cli("export", "--format", "jsonl", home=home))]
    assert len(rows) == 3
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in rows}
    assert "小狗" in by_name["dog_note.png"]["ocr_text"] and len(by_name["dog_note.png"]["paths"]) == 2
    out = home / "export.csv"
    assert run_cli("export", "--format", "csv", "-o", out, home=home).returncode == 0
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["sha256"] for r in table] == [r["sha256"] for r in rows]
    dog = next(r for r in table if r["path"].endswith("dog_note.png"))
    assert dog["paths"].split("\n") == by_name["dog_note.png"]["paths"] and "小狗" in dog["ocr_text"]


def js_lines(proc):
    assert proc.returncode == 0, proc.stderr_text
    return [line for line in proc.stdout_text.splitlines() if line.strip()]


def test_forget_removes_image_thumbnail_and_search_entry(indexed, tmp_path):
    shared, pics, _ = indexed
    home = tmp_path / "home"
    shutil.copytree(shared, home)  # forget changes the index: this test's own copy of the shared one
    (hit,) = search(home, "小狗")
    thumb = js(run_cli("show", hit["id"], "--json", home=home))["thumbnail"]
    assert thumb and (home / "thumbnails").exists() and open(thumb, "rb").read(2) == b"\xff\xd8"
    out = js(run_cli("forget", pics / "sub" / "dog copy.png", "--json", home=home))
    assert out == {"removed": [hit["id"]], "not_found": []}
    assert search(home, "小狗") == []
    assert not __import__("os").path.exists(thumb)
    db = sqlite3.connect(home / "index.db")
    for table, col in (("images", "id"), ("locations", "image_id"), ("results", "image_id"), ("jobs", "image_id"),
                       ("search_docs", "image_id")):
        assert db.execute(f"SELECT count(*) FROM {table} WHERE {col} = ?", (hit["id"],)).fetchone()[0] == 0
    assert js(run_cli("status", "--json", home=home))["images"] == 2
    again = run_cli("forget", hit["id"], home=home)
    assert again.returncode == 1 and "no image matches" in again.stderr_text
    assert [h["id"] for h in search(shared, "小狗")] == [hit["id"]]  # the shared index is as it was


def test_config_set_get_list(cli, tmp_path):
    assert cli("config", "set", "ocr.min_score", "0.6").returncode == 0
    assert cli("config", "get", "ocr.min_score").stdout_text.strip() == "0.6"
    assert cli("config", "watch.folders", "add", tmp_path / "a", tmp_path / "b").returncode == 0
    listed = js(cli("config", "list", "--json"))
    assert listed["watch.folders"] == [str(tmp_path / "a"), str(tmp_path / "b")] and listed["ocr.min_score"] == 0.6
    assert "* ocr.min_score = 0.6" in cli("config").stdout_text
    bad = cli("config", "set", "ocr.min_score", "lots")
    assert bad.returncode == 2 and "not a valid float" in bad.stderr_text
    assert cli("config", "nonsense.key").returncode == 2
    assert cli("config", "reset", "ocr.min_score").returncode == 0
    assert js(cli("config", "ocr.min_score", "--json")) == {"ocr.min_score": 0.5}


def test_doctor_json(cli):
    rep = js(cli("doctor", "--json"))
    # What torch itself says here, asked in a process of its own.
    torch_says = json.loads(subprocess.run(
        [sys.executable, "-c", "import json, torch; print(json.dumps([torch.__version__, torch.cuda.is_available(),"
                               " torch.cuda.device_count()]))"],
        capture_output=True, text=True, timeout=120, check=True).stdout)
    assert rep["torch"]["ok"]
    assert [rep["torch"]["version"], rep["torch"]["cuda_available"], len(rep["torch"].get("devices", []))] == torch_says
    assert rep["ocr"]["ok"] and "42" in rep["ocr"]["read"]
    assert rep["index"]["fts5"] is True
    assert "session" in rep["display"] and rep["packages"]["rapidocr"]


def test_every_command_has_help(cli):
    from vlagent.cli.main import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert {"index", "search", "show", "status", "forget", "export", "config", "doctor", "demo"} <= set(sub.choices)
    top = cli("--help")
    assert top.returncode == 0 and "index" in top.stdout_text
    for name in sub.choices:
        proc = cli(name, "--help")
        assert proc.returncode == 0 and proc.stdout_text.startswith(f"usage: vlagent {name}"), name


def test_exit_statuses(cli, vlagent_home, tmp_path):
    assert js(cli("search", "anything", "--json")) == []  # nothing indexed yet: not an error
    nothing = cli("index", tmp_path / "nope")
    assert nothing.returncode == 2 and "nothing to index" in nothing.stderr_text
    vlagent_home.mkdir(exist_ok=True)
    (vlagent_home / "index.db").write_bytes(b"this is not a database" * 100)
    broken = cli("status")
    assert broken.returncode == 1 and "cannot open the index" in broken.stderr_text
    assert "Traceback" not in broken.stderr_text


def test_demo_indexes_its_samples_and_finds_them(cli, tmp_path, cjk_font_path):
    proc = cli("demo", "--folder", tmp_path / "demo")
    assert proc.returncode == 0, proc.stderr_text
    out = proc.stdout_text
    assert "wrote 5 sample images" in out and "5 new" in out and "ocr_done 5" in out
    sections = dict(part.split("\n", 1) for part in out.split("\n$ vlagent search ")[1:])
    assert "note_dog.png" in sections["小狗"]
    assert "note_invoice.png" in sections["发票"] and "note_invoice.png" in sections["invoice 42.50"]
    assert "note_error.png" in sections["数据库"] and "note_error.png" in sections["connection refused"]
