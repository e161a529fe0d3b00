"""``vlagent describe a.png b.png c.png`` runs the pipeline's describe step over the images in
batches of ``vlm.batch_size`` (as ``index --describe`` does), and its JSON repeats no input."""

from __future__ import annotations

import base64
import json

FAST = ["--vlm-max-new-tokens", "6", "--vlm-max-pixels", str(64 * 28 * 28), "--vlm-cpu-quantize", "false"]


def test_several_images_are_described_in_batches(cli, text_png, tiny_model_dir):
    images = [text_png([f"Receipt {i}", f"Total {i}.50"], name=f"r{i}.png") for i in range(3)]
    p = cli("describe", *images, "--model", tiny_model_dir, "--json", "--vlm-batch-size", "3", *FAST, check=True)
    records = json.loads(p.stdout_text)
    assert [r["path"] for r in records] == [str(i) for i in images]
    assert all(r["kind"] == "description" and r["text"] and r["image_id"] for r in records)
    assert {r["timings"]["batch_size"] for r in records} == {3}  # one batch of three
    shown = json.loads(cli("show", str(records[1]["image_id"]), "--json", check=True).stdout_text)
    assert [r["text"] for r in shown["results"] if r["kind"] == "description"] == [records[1]["text"]]

    human = cli("describe", *images[:2], "--model", tiny_model_dir, "--vlm-batch-size", "2", "--no-store", *FAST,
                check=True)
    assert human.stdout_text.count("==> ") == 2 and "batch 2" in human.stderr_text


def test_json_does_not_repeat_a_data_url(cli, text_png, tiny_model_dir):
    png = text_png(["inline"], name="inline.png").read_bytes()
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    p = cli("describe", url, "--model", tiny_model_dir, "--json", "--no-store", *FAST, check=True)
    (rec,) = json.loads(p.stdout_text)
    assert rec["text"] and rec["image"].startswith("data:image/png;base64,…") and url[40:80] not in p.stdout_text
