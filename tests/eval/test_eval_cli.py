"""``vlagent eval ocr|captions`` end to end: the real CLI on generated EN/ZH text images, real
RapidOCR, and the VLM on the tiny random checkpoint (whose output is noise: it scores badly, which
is what these tests expect of it)."""

from __future__ import annotations

import json
import shutil

import pytest

TEXTS = {"receipt.png": ["Total 42.50", "Thank you"], "notice.png": ["会议改到下午三点"],
         "mixed.png": ["Invoice 2024 发票"]}


@pytest.fixture
def tiny(tiny_model_dir):
    return tiny_model_dir


@pytest.fixture
def ocr_set(text_png, tmp_path):
    folder = tmp_path / "images"
    with open(tmp_path / "truth.jsonl", "w", encoding="utf-8") as f:
        f.write("# one image per line\n\n")
        for name, lines in TEXTS.items():
            text_png(lines, name=name, folder=folder)
            f.write(json.dumps({"file": name, "text": "\n".join(lines)}, ensure_ascii=False) + "\n")
        f.write(json.dumps({"file": "gone.png", "text": "this image is missing"}) + "\n")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with open(tmp_path / "truth.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"file": "broken.png", "text": "x"}) + "\n")
    return folder, tmp_path / "truth.jsonl"


@pytest.fixture
def caption_set(text_png, tmp_path):
    from vlagent.samples import photo_like

    folder = tmp_path / "photos"
    folder.mkdir()
    refs = {"p0.png": ["a field of colour under a blue sky", "an abstract landscape"],
            "p1.png": ["colourful shapes on a plain background"],
            "p2.png": ["一张彩色的抽象图片", "色块组成的画面"]}
    with open(tmp_path / "refs.jsonl", "w", encoding="utf-8") as f:
        for i, (name, caps) in enumerate(refs.items()):
            photo_like(320, 240, seed=i).save(folder / name)
            for cap in caps:  # one line per caption: lines naming the same file add up
                f.write(json.dumps({"file": name, "caption": cap}, ensure_ascii=False) + "\n")
    return folder, tmp_path / "refs.jsonl"


def test_eval_ocr_rapidocr_reads_clean_text_and_skips_bad_images(cli, ocr_set):
    folder, truth = ocr_set
    r = cli("eval", "ocr", folder, "--truth", truth, "--engines", "ocr", "--json")
    assert r.returncode == 0, r.stderr_text
    report = json.loads(r.stdout)
    assert report["kind"] == "ocr" and report["images"] == 5
    [ocr] = report["results"]
    assert ocr["engine"] == "rapidocr" and ocr["images"] == 3 and ocr["failed"] == 2
    assert set(ocr["failures"]) == {"gone.png", "broken.png"}
    assert ocr["cer"] < 0.05 and ocr["word_recall"] > 0.95, ocr["items"]
    assert {i["file"] for i in ocr["items"]} == set(TEXTS)
    assert all(set(i) == {"file", "cer", "word_recall", "ms", "text"} for i in ocr["items"])
    notice = next(i for i in ocr["items"] if i["file"] == "notice.png")
    assert "会议" in notice["text"]

    table = cli("eval", "ocr", folder, "--truth", truth, "--engines", "ocr", "--details", "--limit", "2")
    assert table.returncode == 0, table.stderr_text
    head, row = table.stdout_text.splitlines()[:2]
    assert head.split()[:5] == ["engine", "model", "CER", "word", "recall"]
    assert row.startswith("rapidocr") and "%" in row
    assert "notice.png  cer=" in table.stdout_text and "mixed.png" not in table.stdout_text


def test_eval_ocr_against_the_vlm_and_a_missing_model(cli, ocr_set, tiny):
    tiny_model_dir = tiny
    folder, truth = ocr_set
    r = cli("eval", "ocr", folder, "--truth", truth, "--limit", "3", "--model", tiny_model_dir,
            "--model", "Qwen/Not-Downloaded", "--vlm-max-new-tokens", "8", "--json")
    assert r.returncode == 0, r.stderr_text
    ocr, vlm, missing = json.loads(r.stdout)["results"]
    assert ocr["engine"] == "rapidocr" and ocr["cer"] < 0.05
    assert vlm["engine"] == "transformers" and vlm["images"] == 3 and vlm["error"] is None
    assert vlm["cer"] > ocr["cer"] and 0 <= vlm["word_recall"] < 0.5  # random weights: noise
    assert all(isinstance(i["text"], str) for i in vlm["items"])
    assert missing["label"] == "Qwen/Not-Downloaded"
    assert missing["error"] == ("model Qwen/Not-Downloaded is not downloaded; run: vlagent model pull "
                                "Qwen/Not-Downloaded (or --hub modelscope)")



def test_eval_captions_compares_models(cli, caption_set, tiny, tmp_path):
    tiny_model_dir = tiny
    folder, refs = caption_set
    other = shutil.copytree(tiny_model_dir, tmp_path / "tiny-copy")
    r = cli("eval", "captions", folder, "--refs", refs, "--model", tiny_model_dir, "--model", other,
            "--vlm-max-new-tokens", "8", "--prompt", "Describe this image in one sentence.", "--json")
    assert r.returncode == 0, r.stderr_text
    report = json.loads(r.stdout)
    assert report["prompt"] == "Describe this image in one sentence." and report["images"] == 3
    assert [x["label"] for x in report["results"]] == [str(tiny_model_dir), str(other)]
    for res in report["results"]:
        assert res["images"] == 3 and len(res["bleu"]) == 4 and res["bleu4"] == res["bleu"][3]
        assert 0 <= res["bleu4"] < 0.5 and 0 <= res["cider"] < 1  # noise against real captions
        assert [i["file"] for i in res["items"]] == ["p0.png", "p1.png", "p2.png"]
    # same weights, greedy decoding: the same captions and scores
    a, b = report["results"]
    assert [i["caption"] for i in a["items"]] == [i["caption"] for i in b["items"]] and a["cider"] == b["cider"]

    table = cli("eval", "captions", folder, "--refs", refs, "--model", tiny_model_dir, "--model",
                "Qwen/Not-Downloaded", "--vlm-max-new-tokens", "8", "--details")
    assert table.returncode == 0, table.stderr_text
    lines = table.stdout_text.splitlines()
    assert lines[0].split() == ["engine", "model", "BLEU-1", "BLEU-4", "CIDEr", "words", "images", "ms/image",
                                "load", "s"]
    assert lines[1].startswith("transformers") and str(tiny_model_dir) in lines[1]
    assert "could not run: model Qwen/Not-Downloaded is not downloaded" in lines[2]
    assert "with 3 it says little" in table.stdout_text
    assert "  p2.png  bleu4=" in table.stdout_text


def test_eval_exits_1_when_no_model_can_run_without_loading_torch(cli, caption_set):
    folder, refs = caption_set
    r = cli("eval", "captions", folder, "--refs", refs, "--model", "Qwen/Not-Downloaded")
    assert r.returncode == 1
    assert "could not run: model Qwen/Not-Downloaded is not downloaded; run: vlagent model pull" in r.stdout_text
    assert "Traceback" not in r.stderr_text


@pytest.mark.parametrize("content, message", [
    ('{"file": "a.png", "text": "x"}\nnot json\n', "truth.jsonl line 2: not JSON"),
    ('{"file": "a.png"}\n', 'truth.jsonl line 1: expected {"file": ..., "text": "..."}'),
    ('{"text": "x"}\n', 'truth.jsonl line 1: expected an object with a "file" name'),
    ('{"file": "a.png", "text": "x"}\n{"file": "a.png", "text": "y"}\n', "a.png is listed twice"),
    ("\n# nothing\n", "lists no images"),
])
def test_bad_truth_file_is_one_clear_line(cli, tmp_path, content, message):
    (tmp_path / "truth.jsonl").write_text(content)
    r = cli("eval", "ocr", tmp_path, "--truth", tmp_path / "truth.jsonl", "--engines", "ocr")
    assert r.returncode == 2
    assert message in r.stderr_text and len(r.stderr_text.strip().splitlines()) == 1


def test_bad_refs_and_engines(cli, tmp_path):
    (tmp_path / "refs.jsonl").write_text('{"file": "a.png", "captions": []}\n')
    r = cli("eval", "captions", tmp_path, "--refs", tmp_path / "refs.jsonl")
    assert r.returncode == 2 and "at least one non-empty caption" in r.stderr_text
    (tmp_path / "t.jsonl").write_text('{"file": "a.png", "text": "x"}\n')
    r = cli("eval", "ocr", tmp_path, "--truth", tmp_path / "t.jsonl", "--engines", "tesseract")
    assert r.returncode == 2 and "--engines takes ocr, vlm or both" in r.stderr_text
    r = cli("eval", "ocr", tmp_path / "nope", "--truth", tmp_path / "t.jsonl")
    assert r.returncode == 2 and "is not a folder" in r.stderr_text


def test_help_documents_the_file_formats(cli):
    ocr = cli("eval", "ocr", "--help").stdout_text
    assert '{"file": "receipt.png", "text": "Total 42.50"}' in ocr and "CER" in ocr
    cap = cli("eval", "captions", "--help").stdout_text
    assert '"captions": ["a puppy playing in the snow"' in cap and "CIDEr" in cap and "--model" in cap
