"""The transformers engine generating for real on tiny checkpoints of all three architectures."""

from __future__ import annotations

import gc
import time
import weakref

import pytest
import torch
from qwen_vl_utils import smart_resize

from vlagent.vlm import CancelToken, ChatMessage, GenerationOptions, ModelNotAvailable, OutOfMemory, VlmEngine
from vlagent.vlm.transformers_backend import DEFAULT_THREADS

ARCHS = ["qwen2_5_vl", "qwen2_vl", "qwen3_vl"]
PROMPT = "Describe this image in detail."


def expected_tokens(image, arch, max_pixels=128 * 28 * 28, min_pixels=4 * 28 * 28):
    factor = 32 if arch == "qwen3_vl" else 28
    h, w = smart_resize(image.height, image.width, factor=factor, min_pixels=min_pixels, max_pixels=max_pixels)
    return (h // factor) * (w // factor)


@pytest.mark.parametrize("arch", ARCHS)
def test_describe_single_batched_and_streamed(arch, tiny_model_factory, make_engine, images):
    engine = make_engine(tiny_model_factory(arch), **{"vlm.batch_size": 1})
    assert isinstance(engine, VlmEngine) and not engine.loaded

    singles = engine.describe(images, PROMPT)
    assert engine.loaded
    for img, g in zip(images, singles):
        assert g.text.strip(), "a random untied model still says something"
        assert g.finish_reason in ("stop", "length")
        assert g.engine == "transformers" and g.prompt == PROMPT
        t = g.timings
        assert t["visual_tokens"] == expected_tokens(img, arch)
        assert t["input_tokens"] > t["visual_tokens"]
        assert 1 <= t["new_tokens"] <= 12
        assert t["batch_size"] == 1
        assert t["generate_ms"] >= t["prefill_ms"] > 0 and t["vision_ms"] > 0
        assert t["peak_memory_mb"] > 0
    assert singles[0].timings["load_ms"] > 0

    # Batched with left padding over images of different sizes: same tokens as one by one (float32).
    engine.settings.override("vlm.batch_size", 3)
    batched = engine.describe(images, PROMPT)
    assert [g.text for g in batched] == [g.text for g in singles]
    assert {g.timings["batch_size"] for g in batched} == {3}
    assert len({g.timings["input_tokens"] for g in batched}) == 3  # rows really differ in length
    assert batched[0].timings["load_ms"] == 0  # already loaded

    # Streaming: the pieces are the answer.
    pieces: list[str] = []
    g = engine.chat([ChatMessage("user", PROMPT, [images[0]])], on_token=pieces.append)
    assert len(pieces) > 1
    assert "".join(pieces) == g.text == singles[0].text


def test_cancel_stops_at_the_next_token(tiny_model_dir, make_engine, images):
    engine = make_engine(tiny_model_dir)
    opts = GenerationOptions(max_new_tokens=40, min_new_tokens=40, max_pixels=64 * 28 * 28)
    cancel = CancelToken()
    pieces: list[str] = []

    def on_token(piece):
        pieces.append(piece)
        cancel.cancel()

    g = engine.chat([ChatMessage("user", PROMPT, [images[1]])], opts, on_token=on_token, cancel=cancel)
    assert g.finish_reason == "cancelled"
    assert 1 <= g.timings["new_tokens"] < 10
    assert g.text.startswith(pieces[0])

    # Cancelled before starting: nothing runs, every image is reported cancelled.
    gens = engine.describe(images, PROMPT, opts, cancel=cancel)
    assert [x.finish_reason for x in gens] == ["cancelled"] * 3 and all(x.text == "" for x in gens)


def test_multi_turn_ask_with_two_images(tiny_model_dir, make_engine, images):
    engine = make_engine(tiny_model_dir)
    one = engine.chat([ChatMessage("user", "What does the invoice say?", [images[0]])])
    turns = [
        ChatMessage("user", "What does the invoice say?", [images[0]]),
        ChatMessage("assistant", one.text),
        ChatMessage("user", "和这张照片比较一下？", [images[1]]),
    ]
    two = engine.chat(turns)
    assert two.prompt == "和这张照片比较一下？"
    assert two.timings["visual_tokens"] == expected_tokens(images[0], "qwen2_5_vl") + expected_tokens(
        images[1], "qwen2_5_vl")
    h, w = smart_resize(480, 640, factor=28, min_pixels=4 * 28 * 28, max_pixels=128 * 28 * 28)
    assert two.timings["image_sizes"] == [one.timings["image_sizes"][0], f"{w}x{h}"]
    assert two.timings["input_tokens"] > one.timings["input_tokens"] + two.timings["visual_tokens"] // 2
    assert two.text.strip()
    with pytest.raises(Exception, match="end with a user message"):
        engine.chat(turns[:2])


def test_every_knob_reaches_generate_and_the_processor(tiny_model_dir, make_engine, images, monkeypatch):
    engine = make_engine(tiny_model_dir, **{
        "vlm.max_new_tokens": 7, "vlm.do_sample": True, "vlm.temperature": 0.3, "vlm.top_k": 5,
        "vlm.top_p": 0.8, "vlm.repetition_penalty": 1.3, "vlm.attn_implementation": "eager", "vlm.threads": 1})
    threads_before = torch.get_num_threads()
    engine.load()
    try:
        assert torch.get_num_threads() == 1
        engine.settings.override("vlm.threads", 3)  # applies on the next call, without a reload
        assert engine.describe([images[0]], PROMPT)[0].timings["load_ms"] == 0
        assert torch.get_num_threads() == 3
        engine.settings.override("vlm.threads", 0)
        engine.describe([images[0]], PROMPT)
        assert torch.get_num_threads() == DEFAULT_THREADS  # all cores but one
    finally:
        torch.set_num_threads(threads_before)
    model = engine._loaded.model
    assert model.config._attn_implementation == "eager"
    assert next(model.parameters()).dtype == torch.float32
    calls = []
    real_generate = model.generate

    def spy(**kwargs):
        calls.append(kwargs)
        return real_generate(**kwargs)

    monkeypatch.setattr(model, "generate", spy)
    g = engine.describe([images[1]], PROMPT)[0]
    kw = calls[-1]
    assert (kw["max_new_tokens"], kw["do_sample"], kw["temperature"], kw["top_k"], kw["top_p"],
            kw["repetition_penalty"]) == (7, True, 0.3, 5, 0.8, 1.3)
    assert g.timings["new_tokens"] <= 7 and g.params["temperature"] == 0.3

    # Pixel budget → fewer visual tokens; explicit size → exactly that grid.
    counts = {}
    for max_pixels in (64 * 28 * 28, 256 * 28 * 28):
        engine.settings.override("vlm.max_pixels", max_pixels)
        counts[max_pixels] = engine.describe([images[1]], PROMPT)[0].timings["visual_tokens"]
        assert counts[max_pixels] == expected_tokens(images[1], "qwen2_5_vl", max_pixels=max_pixels)
    assert counts[64 * 28 * 28] < counts[256 * 28 * 28]
    engine.settings.override("vlm.resized_height", 280)
    engine.settings.override("vlm.resized_width", 560)
    g = engine.describe([images[1]], PROMPT)[0]
    assert calls[-1]["image_grid_thw"].tolist() == [[1, 20, 40]]  # 280/14 × 560/14 patches
    assert g.timings["visual_tokens"] == 10 * 20 and g.timings["image_sizes"] == ["560x280"]

    # Greedy decoding clears any sampling parameters the checkpoint might carry.
    engine.settings.override("vlm.do_sample", False)
    engine.describe([images[1]], PROMPT)
    assert calls[-1]["do_sample"] is False and calls[-1]["temperature"] is None


def test_dtype_device_and_int8_settings(tiny_model_dir, make_engine, images):
    from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear

    default_kernels = torch.backends.quantized.engine
    engine = make_engine(tiny_model_dir, **{"vlm.dtype": "bfloat16", "vlm.cpu_quantize": True})
    g = engine.describe([images[0]], PROMPT)[0]
    model = engine._loaded.model
    assert engine.placement.device == "cpu" and g.params["device"] == "cpu"
    assert g.params["dtype"] == "bfloat16" and g.params["int8"] is True
    assert model.model.visual.patch_embed.proj.weight.dtype == torch.bfloat16  # vision keeps its dtype
    lm_linears = [m for m in model.model.language_model.modules() if isinstance(m, (torch.nn.Linear,
                                                                                     DynamicInt8Linear))]
    assert lm_linears and all(isinstance(m, DynamicInt8Linear) for m in lm_linears)
    assert isinstance(model.lm_head, DynamicInt8Linear)
    assert g.text.strip()
    # The int8 kernels the placement chose are the ones the weights were packed for.
    chosen = engine.placement.int8_engine
    assert torch.backends.quantized.engine == (chosen or default_kernels)
    assert g.params.get("int8_engine", "") == chosen

    # The int8 kernels named: a reload packs for them, and the answer is the same words' worth.
    engine.settings.override("vlm.int8_engine", "fbgemm")
    g8 = engine.describe([images[0]], PROMPT)[0]
    assert g8.timings["load_ms"] > 0 and g8.params["int8_engine"] == "fbgemm"
    assert torch.backends.quantized.engine == "fbgemm" and g8.text.strip()
    engine.settings.override("vlm.int8_engine", "auto")

    # A load-time setting changed: the next call reloads with it.
    engine.settings.override("vlm.cpu_quantize", False)
    engine.settings.override("vlm.dtype", "float32")
    g = engine.describe([images[0]], PROMPT)[0]
    assert g.timings["load_ms"] > 0 and g.params["dtype"] == "float32" and g.params["int8"] is False
    assert isinstance(engine._loaded.model.lm_head, torch.nn.Linear)


def test_placement_choices(settings):
    from vlagent.vlm.devices import FP16_WARNING, cpu_has_fast_bf16, plan

    p = plan(settings)
    if not torch.cuda.is_available():
        assert p.device == "cpu" and p.attn_implementation == "sdpa" and p.quantize is True
        assert p.dtype == ("bfloat16" if cpu_has_fast_bf16() else "float32")
        settings.override("vlm.device", "cuda:1")
        with pytest.raises(ValueError, match="no CUDA GPU"):
            plan(settings)
        settings.override("vlm.device", "cpu")
    settings.override("vlm.dtype", "float16")
    assert FP16_WARNING in plan(settings).notes
    settings.override("vlm.device", "gpu")
    with pytest.raises(ValueError, match="auto, cpu, cuda, cuda:N or mps"):
        plan(settings)


def test_idle_unload_frees_the_model(tiny_model_dir, make_engine, images):
    engine = make_engine(tiny_model_dir, **{"vlm.idle_unload_s": 0.3})
    engine.describe([images[0]], PROMPT)
    model_ref = weakref.ref(engine._loaded.model)
    deadline = time.monotonic() + 10
    while engine.loaded and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not engine.loaded
    gc.collect()
    assert model_ref() is None, "nothing may keep the unloaded model alive"
    g = engine.describe([images[0]], PROMPT)[0]  # loads again on demand
    assert engine.loaded and g.timings["load_ms"] > 0


class FakeOOM:
    """Wraps the engine's batch step: raises CUDA out-of-memory while ``too_big`` says so."""

    def __init__(self, engine, too_big):
        self.real = engine._generate_batch
        self.too_big = too_big
        self.calls: list[tuple[int, int]] = []

    def __call__(self, conversations, opts, *args, **kwargs):
        self.calls.append((len(conversations), opts.max_pixels))
        if self.too_big(len(conversations), opts.max_pixels):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return self.real(conversations, opts, *args, **kwargs)


def test_out_of_memory_falls_back_to_smaller_batches_then_fewer_pixels(tiny_model_dir, make_engine, images,
                                                                         monkeypatch):
    px = 128 * 28 * 28
    engine = make_engine(tiny_model_dir, **{"vlm.batch_size": 4})
    fake = FakeOOM(engine, lambda n, max_pixels: n > 1 or max_pixels > px // 2)
    monkeypatch.setattr(engine, "_generate_batch", fake)
    gens = engine.describe(images, PROMPT)
    assert fake.calls[:4] == [(3, px), (2, px), (1, px), (1, px // 2)]
    assert all(call == (1, px // 2) for call in fake.calls[4:]) and len(gens) == 3
    assert all(g.text and g.params["max_pixels"] == px // 2 and g.timings["oom_retries"] == 1 for g in gens)

    fake.too_big = lambda n, max_pixels: True
    fake.calls.clear()
    with pytest.raises(OutOfMemory, match="batch size 1 and max_pixels"):
        engine.describe(images[:2], PROMPT)
    assert fake.calls == [(2, px), (1, px), (1, px // 2), (1, px // 4)]

    fake.calls.clear()
    with pytest.raises(OutOfMemory, match="batch size 1 and max_pixels"):
        engine.chat([ChatMessage("user", PROMPT, [images[0]])])
    assert fake.calls == [(1, px), (1, px // 2), (1, px // 4)]

    fake.too_big = lambda n, max_pixels: max_pixels > px // 4
    answer = engine.chat([ChatMessage("user", PROMPT, [images[0]])])  # a chat backs off as a batch does
    assert answer.text and answer.timings["oom_retries"] == 2 and answer.params["max_pixels"] == px // 4


def test_a_missing_model_says_what_to_do(tmp_path, make_engine, images):
    for model, message in [(tmp_path / "nope", "no model directory"), (tmp_path, "no config.json")]:
        engine = make_engine(model)
        with pytest.raises(ModelNotAvailable, match=message):
            engine.describe([images[0]], PROMPT)
        assert not engine.loaded


