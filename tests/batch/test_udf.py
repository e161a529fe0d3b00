"""The seed operator as a Daft class UDF, on the tiny checkpoint: every row gets a result or an
error, in order; per-row prompts are the prompts the model saw; bytes columns work; the
describer is the job pipeline's describe step (same text as a queued describe job)."""

from __future__ import annotations

import json

import pytest

from tests.batch.conftest import BAD_KINDS, daft, png_bytes

COMMON = dict(max_caption_length=6, batch_size=1, dtype="float32", allow_private_urls=True, retries=0,
              language="en")


@pytest.fixture(scope="module")
def native_results(mixed_table, tiny_model_dir, tmp_path_factory):
    from vlagent.batch import ImageDescriber

    home = tmp_path_factory.mktemp("udf-home")
    d = ImageDescriber(model_path=str(tiny_model_dir), home=str(home), extra_settings={"vlm.cpu_quantize": False},
                       **COMMON)
    df = daft.from_pydict({"images": mixed_table["images"], "prompts": mixed_table["prompts"]})
    out = df.with_column("vlagent", d.describe(df["images"], df["prompts"])).to_pydict()
    return out["vlagent"]


def test_every_row_has_a_result_or_an_error_in_order(mixed_table, native_results):
    assert len(native_results) == len(mixed_table["images"])
    for kind, r in zip(mixed_table["kinds"], native_results, strict=True):
        if kind in BAD_KINDS:
            assert r["description"] is None and r["error"] and r["error_kind"], (kind, r)
        else:
            assert r["error"] is None, (kind, r)
            assert r["description"] and r["new_tokens"] == 6 and r["engine"] == "transformers"
            assert json.loads(r["timings"])["visual_tokens"] > 0
    kinds = dict(zip(mixed_table["kinds"], native_results, strict=False))
    assert kinds["corrupt"]["error_kind"] == "corrupt"
    assert kinds["unreachable"]["error_kind"] == "fetch"
    assert kinds["missing"]["error_kind"] == "vanished"


def test_a_row_prompt_reaches_the_model(mixed_table, native_results):
    # Same image (row 2 is base64 of the same PNG as row 3's data: URL), different prompts:
    # the prompt is part of the model's input, so the input token counts differ.
    by_kind = {k: r for k, r in zip(mixed_table["kinds"], native_results, strict=True) if k in ("base64", "data_url")}
    assert by_kind["base64"]["prompt_tokens"] != by_kind["data_url"]["prompt_tokens"]


def test_bytes_column_and_describer_equal_the_pipeline_step(tiny_model_dir, tmp_path, index, home, settings):
    """A batch row is described by the code that describes a dropped file: the text equals
    what the queued describe job stores for the same image."""
    from vlagent.batch import BatchDescriber, ImageDescriber
    from vlagent.ingest.pipeline import Ingestor
    from vlagent.jobs.build import build_runner

    data = png_bytes(["same image both ways", "同一张图"])
    d = ImageDescriber(model_path=str(tiny_model_dir), home=str(tmp_path), extra_settings={"vlm.cpu_quantize": False},
                       **COMMON)
    df = daft.from_pydict({"images": [data, b"garbage"]})
    (ok, bad) = df.with_column("r", d.describe(df["images"])).to_pydict()["r"]
    assert ok["error"] is None and bad["error_kind"] == "not_an_image"

    core = BatchDescriber(model_path=str(tiny_model_dir), home=str(tmp_path),
                          extra_settings={"vlm.cpu_quantize": False}, **COMMON)
    (direct,) = core.describe([data])
    assert direct.description == ok["description"]

    for key, value in core.params.settings_values().items():
        settings.override(key, value)
    p = tmp_path / "dropped.png"
    p.write_bytes(data)
    image_id = Ingestor(index, settings, home).ingest_path(str(p), steps=["describe"]).image_id
    build_runner(index, settings, home).run_until_empty(["describe"])
    (stored,) = index.results(image_id, "description")
    assert stored["text"] == ok["description"]


def test_unknown_parameters_fail_on_the_driver_with_their_names():
    from vlagent.batch import ImageDescriber

    with pytest.raises(ValueError, match="unknown batch parameter.*max_caption_len"):
        ImageDescriber(max_caption_len=5)
    with pytest.raises(ValueError, match="image_src_type"):
        ImageDescriber(image_src_type="ftp")


def test_seed_parameters_map_onto_vlagent_settings():
    from vlagent.batch import BatchParams

    v = BatchParams(model_path="/m", batch_size=8, dtype="bfloat16", use_flash_attention_2=True,
                    max_caption_length=128, resized_height=280, resized_width=420, do_sample=True,
                    temperature=0.2, top_k=5, top_p=0.5).settings_values()
    assert v["vlm.model"] == "/m" and v["vlm.batch_size"] == 8 and v["vlm.dtype"] == "bfloat16"
    assert v["vlm.attn_implementation"] == "flash_attention_2" and v["vlm.max_new_tokens"] == 128
    assert (v["vlm.resized_height"], v["vlm.resized_width"]) == (280, 420)
    assert (v["vlm.do_sample"], v["vlm.temperature"], v["vlm.top_k"], v["vlm.top_p"]) == (True, 0.2, 5, 0.5)
    with pytest.raises(ValueError, match="base_url"):
        BatchParams(backend="openai").settings_values()
    remote = BatchParams(backend="openai", base_url="http://h:8000/v1", model_name="Qwen2-VL-7B").settings_values()
    assert remote["vlm.openai_base_url"] == "http://h:8000/v1" and remote["vlm.openai_model"] == "Qwen2-VL-7B"


def test_object_store_urls_in_the_udf_say_how_to_read_them(tmp_path):
    from vlagent.batch import BatchDescriber

    core = BatchDescriber(home=str(tmp_path))
    (row,) = core.describe(["s3://bucket/key.png"])
    assert row.error_kind == "bad_input" and "url.download()" in row.error
