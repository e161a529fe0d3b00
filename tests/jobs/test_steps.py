"""The model's queue steps on a real index: describe, transcribe and ask jobs, batching, and
what happens to jobs when the model is missing."""

from __future__ import annotations

import pytest
from PIL import Image
from qwen_vl_utils import smart_resize

from tests.conftest import searchable_words
from tests.vlm.conftest import TEST_DEFAULTS
from vlagent.index.queue import PRIO_INTERACTIVE, JobQueue, new_worker_id
from vlagent.index.search import search
from vlagent.ingest.pipeline import Ingestor
from vlagent.jobs.build import build_runner
from vlagent.vlm.prompts import DESCRIBE, TRANSCRIBE


@pytest.fixture
def vlm_settings(settings, tiny_model_dir):
    for key, value in {**TEST_DEFAULTS, "vlm.model": str(tiny_model_dir), "general.language": "en"}.items():
        settings.override(key, value)
    return settings


@pytest.fixture
def pngs(text_png):
    return [text_png(["Quarterly revenue grew 12%"], name="a.png"),
            text_png(["数据库连接失败", "Error: connection refused"], name="b.png"),
            text_png(["Meeting notes: ship on Friday"], name="c.png", font_size=40)]


def test_index_describe_runs_ocr_first_then_batched_descriptions(index, home, vlm_settings, pngs):
    vlm_settings.override("vlm.describe", True)
    vlm_settings.override("vlm.transcribe", True)
    vlm_settings.override("vlm.batch_size", 2)
    ingestor = Ingestor(index, vlm_settings, home)
    ids = [ingestor.ingest_path(str(p)).image_id for p in pngs[:2]]
    runner = build_runner(index, vlm_settings, home, worker_id=new_worker_id())
    assert {"ocr", "describe", "transcribe", "ask"} <= set(runner.steps)

    reports = []
    runner.run_until_empty(on_report=reports.append)
    kinds = [r.job.kind for r in reports]
    assert all(r.ok for r in reports), [r.error for r in reports]
    assert kinds[:2] == ["ocr"] * 2 and sorted(kinds[2:]) == ["describe"] * 2 + ["transcribe"] * 2

    for image_id in ids:
        (desc,) = index.results(image_id, "description")
        (vocr,) = index.results(image_id, "vlm_ocr")
        assert index.results(image_id, "ocr")  # RapidOCR's result stays beside the model's
        assert desc["text"] and desc["engine"] == "transformers" and desc["model"] == str(
            vlm_settings.get("vlm.model"))
        assert desc["params"]["prompt"] == DESCRIBE["en"] and vocr["params"]["prompt"] == TRANSCRIBE["en"]
        assert desc["timings"]["batch_size"] == 2 and desc["timings"]["visual_tokens"] > 0
        assert desc["latency_ms"] == desc["timings"]["total_ms"]
        assert desc["prompt"] is None  # only answers carry a question

    # The description is searchable.
    text = index.results(ids[1], "description")[0]["text"]
    hits = search(index.conn, searchable_words(text)).hits
    assert ids[1] in [h.image_id for h in hits]


def test_a_missing_model_fails_jobs_with_the_reason_and_loses_nothing(index, home, vlm_settings, pngs,
                                                                        tmp_path, tiny_model_dir):
    vlm_settings.override("vlm.model", str(tmp_path / "not-downloaded"))
    vlm_settings.override("vlm.describe", True)
    ingestor = Ingestor(index, vlm_settings, home)
    ids = [ingestor.ingest_path(str(p)).image_id for p in pngs[:2]]
    runner = build_runner(index, vlm_settings, home, worker_id=new_worker_id())
    reports = []
    runner.run_until_empty(on_report=reports.append)

    assert [r.ok for r in reports if r.job.kind == "ocr"] == [True] * 2  # OCR keeps working
    failed = [r for r in reports if r.job.kind == "describe"]
    assert len(failed) == 2 and all(not r.ok and r.state == "failed" for r in failed)
    assert "no model directory" in failed[0].error
    for image_id in ids:
        (job,) = [j for j in index.detail(image_id)["jobs"] if j["kind"] == "describe"]
        assert job["state"] == "failed" and "not-downloaded" in job["error"]
        assert index.results(image_id, "ocr") and not index.results(image_id, "description")

    # Once the model is there (the engine reads vlm.model on its next load), the same jobs run.
    vlm_settings.override("vlm.model", str(tiny_model_dir))
    assert JobQueue(index).retry_failed("describe") == 2
    runner.run_until_empty()
    assert all(index.results(i, "description") for i in ids)


def test_ask_jobs_answer_with_history_and_extra_images(index, home, vlm_settings, pngs):
    vlm_settings.override("ocr.enabled", False)
    ingestor = Ingestor(index, vlm_settings, home)
    a, b, _ = [ingestor.ingest_path(str(p)).image_id for p in pngs]
    queue = JobQueue(index)
    asked = queue.enqueue(a, "ask", priority=PRIO_INTERACTIVE, payload={
        "question": "这两张图有什么不同？", "image_ids": [b], "options": {"max_new_tokens": 5, "bogus": 1},
        "history": [{"role": "user", "text": "What is this?", "image_ids": [a]},
                    {"role": "assistant", "text": "A report."}]})
    empty = queue.enqueue(a, "ask", payload={"question": "  "})
    runner = build_runner(index, vlm_settings, home, worker_id=new_worker_id())
    runner.run_until_empty()

    (answer,) = index.results(a, "answer")
    assert answer["prompt"] == "这两张图有什么不同？" and answer["text"]
    assert answer["params"]["image_ids"] == [a, b] and answer["params"]["turns"] == 3
    assert answer["params"]["max_new_tokens"] == 5 and answer["timings"]["new_tokens"] <= 5
    # three images went in: the history's, the job's and the extra one
    sizes = [Image.open(p).size for p in (pngs[0], pngs[0], pngs[1])]
    assert answer["timings"]["visual_tokens"] == sum(
        (h // 28) * (w // 28) for h, w in (smart_resize(h, w, factor=28, min_pixels=4 * 28 * 28,
                                                         max_pixels=128 * 28 * 28) for w, h in sizes))
    assert queue.get(asked)["state"] == "done"
    assert queue.get(empty)["state"] == "failed" and "no question" in queue.get(empty)["error"]
    assert search(index.conn, "不同").hits[0].image_id == a  # answers are searchable
