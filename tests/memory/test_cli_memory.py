"""``vlagent ask --memory`` in a subprocess over real indexed screenshots and the tiny checkpoint."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli


@pytest.fixture(scope="module")
def mem_home(tmp_path_factory, tiny_model_dir):
    from vlagent.samples import text_image

    base = tmp_path_factory.mktemp("ask-memory")
    home = base / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        f'[vlm]\nmodel = "{tiny_model_dir}"\ncpu_quantize = false\ndtype = "float32"\nmax_new_tokens = 8\n'
        f'[memory]\nanswer_tokens = 8\nrewrite_tokens = 6\nimages = 1\n[general]\nlanguage = "en"\n')
    pics = base / "pics"
    pics.mkdir()
    text_image(["ACME Corp Invoice #4471", "Total due: $1,284.50"], font_size=30).save(pics / "invoice.png")
    text_image(["数据库连接失败", "端口 5432"], font_size=30).save(pics / "error.png")
    text_image(["Quarterly sales chart Q3"], font_size=30).save(pics / "chart.png")
    run_cli("index", pics, "--json", home=home, check=True)
    return home


def test_ask_memory_json_names_its_sources_and_stores_the_answer(mem_home):
    proc = run_cli("ask", "--memory", "what was the total on the ACME invoice this week?", "--json", home=mem_home)
    assert proc.returncode == 0, proc.stderr_text
    ans = json.loads(proc.stdout_text)
    assert ans["answered"] and ans["answer"] and ans["time_range"]
    top = ans["sources"][0]
    assert top["path"].endswith("invoice.png") and {"id", "path", "time", "score"} <= set(top)
    shown = json.loads(run_cli("show", str(top["id"]), "--json", home=mem_home, check=True).stdout_text)
    answers = [r for r in shown["results"] if r["kind"] == "answer"]
    assert answers and answers[-1]["prompt"] == ans["question"] and answers[-1]["params"]["memory"] is True


def test_ask_memory_streams_then_lists_sources(mem_home):
    proc = run_cli("ask", "--memory", "端口是多少?", home=mem_home)
    assert proc.returncode == 0, proc.stderr_text
    lines = proc.stdout_text.splitlines()
    assert any(ln.strip().startswith("[#") and "error.png" in ln for ln in lines), proc.stdout_text
    assert "retrieve" in proc.stderr_text


def test_nothing_found_is_said_not_invented(mem_home):
    proc = run_cli("ask", "--memory", "zebra quokka xylophone", "--no-store", home=mem_home)
    assert proc.returncode == 0 and "found nothing" in proc.stdout_text and "zebra" in proc.stdout_text


def test_memory_and_images_do_not_mix(mem_home, tmp_path):
    assert run_cli("ask", "--memory", "x.png", "what is this?", home=mem_home).returncode == 2
    assert "at least one IMAGE" in run_cli("ask", "what is this?", home=mem_home).stderr_text
