"""``vlagent describe`` / ``ask`` / ``index --describe`` end to end: the real CLI in a subprocess,
a tiny checkpoint, a real index; then ``show`` and ``search`` read what the model wrote."""

from __future__ import annotations

import json

from tests.conftest import searchable_words

FAST = ["--vlm-max-new-tokens", "10", "--vlm-max-pixels", str(128 * 28 * 28), "--vlm-cpu-quantize", "false"]


def test_describe_and_ask_store_results_that_show_and_search_find(cli, text_png, tiny_model_dir):
    img = text_png(["Invoice 2024-0193", "发票 应付金额"], name="invoice.png")
    photo = text_png(["Meeting notes"], name="notes.png")

    p = cli("describe", img, "--model", tiny_model_dir, "--json", *FAST, check=True)
    (rec,) = json.loads(p.stdout_text)
    assert rec["kind"] == "description" and rec["text"] and rec["image_id"] == 1 and rec["path"] == str(img)
    assert rec["model"] == str(tiny_model_dir) and rec["finish_reason"] in ("stop", "length")
    t = rec["timings"]
    assert t["load_ms"] > 0 and t["visual_tokens"] > 0 and 1 <= t["new_tokens"] <= 10

    p = cli("ask", img, photo, "这两张图里写了什么？", "--model", tiny_model_dir, *FAST, check=True)
    answer = p.stdout_text.strip()
    assert answer and "new tokens" in p.stderr_text and "visual tokens" in p.stderr_text

    shown = json.loads(cli("show", img, "--json", check=True).stdout_text)
    kinds = {r["kind"]: r for r in shown["results"]}
    assert kinds["description"]["text"] == rec["text"] and kinds["description"]["timings"]["visual_tokens"] > 0
    assert kinds["answer"]["prompt"] == "这两张图里写了什么？" and kinds["answer"]["text"] == answer
    assert kinds["answer"]["params"]["image_ids"] == [1, 2]
    assert {j["kind"] for j in shown["jobs"]} == {"ocr"}  # OCR is queued for the app, no describe job

    human = cli("show", img, check=True).stdout_text
    assert "[description] transformers" in human and "visual_tokens" in human and rec["text"] in human

    hits = json.loads(cli("search", searchable_words(rec["text"]), "--json", check=True).stdout_text)
    assert [h["id"] for h in hits][:1] == [1]


def test_stdin_transcription_and_a_bad_input_among_good_ones(cli, text_png, tiny_model_dir, tmp_path):
    img = text_png(["Error: connection refused", "数据库连接失败"], name="err.png")
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image at all")
    p = cli("describe", "-", bad, "--transcribe", "--model", tiny_model_dir, "--json", *FAST,
            input=img.read_bytes())
    assert p.returncode == 1  # one input failed; the other still ran and was stored
    good, failed = json.loads(p.stdout_text)
    assert good["kind"] == "vlm_ocr" and good["text"] and good["image"] == "-"
    assert failed["image"] == str(bad) and "not an image" in failed["error"]
    assert "broken.png" in p.stderr_text

    shown = json.loads(cli("show", str(good["image_id"]), "--json", check=True).stdout_text)
    assert shown["source"] == "import" and shown["path"].endswith(".png")  # stdin bytes kept under the home
    assert [r["kind"] for r in shown["results"]] == ["vlm_ocr", "ocr"]  # its OCR ran too: searchable now


def test_index_describe_then_show_and_search(cli, text_png, tiny_model_dir):
    folder = text_png(["Quarterly revenue grew 12%"], name="r.png").parent
    text_png(["单元测试全部通过"], name="t.png")
    p = cli("index", folder, "--describe", "--model", tiny_model_dir, "--json", "--vlm-batch-size", "2", *FAST,
            check=True)
    summary = json.loads(p.stdout_text)
    assert summary["new"] == 2 and summary["jobs"] == {"ocr_done": 2, "describe_done": 2}
    for n in (1, 2):
        d = json.loads(cli("show", str(n), "--json", check=True).stdout_text)
        desc = [r for r in d["results"] if r["kind"] == "description"][0]
        assert desc["text"] and desc["timings"]["batch_size"] == 2 and desc["latency_ms"] > 0
        assert d["ocr_text"]
    hits = json.loads(cli("search", searchable_words(desc["text"]), "--json", check=True).stdout_text)
    assert 2 in [h["id"] for h in hits]


def test_a_missing_model_is_one_clear_line(cli, text_png, tmp_path):
    img = text_png(["hello"], name="h.png")
    p = cli("ask", img, "what is this?", "--model", tmp_path / "no-such-model")
    assert p.returncode == 1
    assert p.stderr_text.strip().splitlines()[-1] == f"vlagent: no model directory at {tmp_path / 'no-such-model'}"
    p = cli("ask", img, "--model", tmp_path)
    assert p.returncode == 2 and "at least one IMAGE before the question" in p.stderr_text  # IMAGE taken as it
    p = cli("ask", img, " ", "--model", tmp_path)
    assert p.returncode == 2 and p.stderr_text.strip() == "vlagent: the question is empty"


def test_ask_continue_follows_up_with_the_cached_conversation(cli, text_png, tiny_model_dir, vlagent_home):
    img = text_png(["Invoice 2024-0193", "Total due: 42.50 EUR"], name="inv.png")
    flags = ["--model", tiny_model_dir, "--json", *FAST]
    first = json.loads(cli("ask", img, "What is the total?", *flags, check=True).stdout_text)
    assert first["timings"]["cached_tokens"] == 0
    assert (vlagent_home / "cache" / "last-conversation.pt").stat().st_mode & 0o077 == 0  # this user's only
    second = json.loads(cli("ask", img, "And the invoice number?", "--continue", *flags, check=True).stdout_text)
    # The first turn (image, question, answer) came from the cache another process left on disk.
    assert second["timings"]["cached_tokens"] > first["timings"]["visual_tokens"]
    assert second["timings"]["input_tokens"] > first["timings"]["input_tokens"]
    answers = json.loads(cli("show", img, "--json", check=True).stdout_text)["results"]
    assert [(r["prompt"], r["params"]["turns"]) for r in answers if r["kind"] == "answer"] == [
        ("What is the total?", 1), ("And the invoice number?", 3)]
    p = cli("ask", text_png(["new"], name="new.png"), "Again?", "--continue", *flags)
    assert p.returncode == 2 and "no earlier answer" in p.stderr_text
    # Forgetting the image also forgets the model's saved reading of it.
    saved = vlagent_home / "cache" / "last-conversation.pt"
    assert saved.exists()
    cli("forget", img, check=True)
    assert not saved.exists()
