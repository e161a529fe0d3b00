"""Light mode (a smaller image plus the OCR text) and the Apple-silicon (MPS) device choice.

There is no Mac here: the MPS tests fake torch's backend probes at the boundary
(``torch.backends.mps.is_available``, ``torch.cuda.is_available``); the bfloat16 probe really
runs (it fails on this machine, as on a Mac before macOS 14) unless a test fakes it."""

from __future__ import annotations

import pytest
import torch

from vlagent.jobs.steps import ask_conversation
from vlagent.vlm import ChatMessage, GenerationOptions, light

OCR = "Invoice 2024-0193\nACME Trading Ltd\n" + "\n".join(f"Item {i}: widget, 3 x 4.20 EUR" for i in range(12))


def test_light_mode_off_auto_on(settings, images):
    opts = GenerationOptions(max_pixels=1024 * 28 * 28)
    msgs = [ChatMessage("user", "What is the total?", [images[0]])]
    assert light.lighten(settings, msgs, opts, OCR) == (msgs, opts, False)  # off by default
    settings.override("vlm.light_mode", "auto")
    assert light.lighten(settings, msgs, opts, "OK")[2] is False  # too little text to be text-heavy
    out, lit, applied = light.lighten(settings, msgs, opts, OCR)
    assert applied and lit.max_pixels == 256 * 28 * 28 and opts.max_pixels == 1024 * 28 * 28
    assert out[0].text.startswith("The text in this image") and "ACME Trading" in out[0].text
    assert out[0].text.endswith("What is the total?") and out[0].images == msgs[0].images
    settings.override("vlm.light_mode", "on")
    settings.override("vlm.light_max_pixels", 64 * 28 * 28)
    assert light.lighten(settings, msgs, opts, "OK")[1].max_pixels == 64 * 28 * 28
    assert light.lighten(settings, msgs, opts, "   ")[2] is False  # no OCR text: nothing to lean on


def test_ask_conversation_keeps_the_image_in_the_first_turn_and_the_prefill_prompt(settings, images):
    settings.override("vlm.light_mode", "on")
    load = lambda ids: [images[int(i)] for i in ids or []]  # noqa: E731
    first, _, _ = ask_conversation("What is the total?", {}, [images[0]], load, settings, OCR)
    follow, opts, applied = ask_conversation("And the date?", {"history": [
        {"role": "user", "text": "What is the total?"}, {"role": "assistant", "text": "42.50 EUR"}]},
        [images[0]], load, settings, OCR)
    assert applied and opts.max_pixels == 256 * 28 * 28
    # The follow-up starts as the first question did (image and OCR text in turn one): its cache serves.
    assert follow[0].images == [images[0]] and follow[0].text == first[0].text and not follow[-1].images
    # The prefill's prompt (empty question) is the question's prompt up to the question.
    prefix, _, _ = ask_conversation("", {}, [images[0]], load, settings, OCR)
    assert first[0].text == prefix[0].text + "What is the total?"
    # Two images: light mode reads one image's text only, so it stays off.
    assert ask_conversation("Compare", {"image_ids": [1]}, [images[0]], load, settings, OCR)[2] is False


def test_light_mode_reads_fewer_visual_tokens(tiny_model_dir, make_engine, images):
    engine = make_engine(tiny_model_dir, **{"vlm.light_mode": "on", "vlm.light_max_pixels": 16 * 28 * 28})
    opts = GenerationOptions(max_new_tokens=3, max_pixels=256 * 28 * 28)
    msgs = [ChatMessage("user", "What is the total?", [images[1]])]
    full = engine.chat(msgs, opts)
    lit_msgs, lit_opts, _ = light.lighten(engine.settings, msgs, opts, OCR)
    lit = engine.chat(lit_msgs, lit_opts)
    assert lit.timings["visual_tokens"] <= 16 < full.timings["visual_tokens"]


@pytest.fixture
def fake_mac(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)


def test_apple_silicon_is_chosen_after_cuda(settings, fake_mac, monkeypatch):
    from vlagent.vlm import devices

    p = devices.plan(settings)
    assert (p.device, p.attn_implementation, p.quantize, p.on_mps, p.on_cuda) == ("mps", "sdpa", False, True, False)
    assert p.dtype == "float32"  # no bf16 (the probe fails here, as before macOS 14); never float16 by default
    monkeypatch.setattr(devices, "mps_has_bf16", lambda: True)
    assert devices.plan(settings).dtype == "bfloat16"
    settings.override("vlm.attn_implementation", "flash_attention_2")
    assert devices.plan(settings).attn_implementation == "sdpa"  # no flash-attention on a Mac
    settings.override("vlm.device", "cpu")
    assert devices.plan(settings).device == "cpu"

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # CUDA first when both exist
    assert devices.choose_device("auto") == "cuda:0"


def test_mps_settings_and_doctor_report(settings, fake_mac, monkeypatch):
    from vlagent.vlm import devices
    from vlagent.vlm.probe import probe_torch

    settings.override("vlm.device", "mps")
    settings.override("vlm.dtype", "bfloat16")
    assert devices.plan(settings).dtype == "float32"  # asked for bf16, the GPU has none
    info = probe_torch()
    assert info["mps_available"] is True and info["model_device"] == "mps" and info["model_dtype"] == "float32"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no Apple GPU"):
        devices.plan(settings)
    assert probe_torch()["model_device"] == "cpu"


def test_int8_kernels_are_onednn_where_amx_is(settings, monkeypatch):
    from vlagent.vlm import devices

    supported = torch.backends.quantized.supported_engines
    monkeypatch.setattr(devices, "cpu_flags", lambda: {"avx512f", "amx_tile", "amx_int8"})
    assert devices.choose_int8_engine("auto") == ("onednn" if "onednn" in supported else "")
    monkeypatch.setattr(devices, "cpu_flags", lambda: {"avx2", "avx512_vnni"})
    assert devices.choose_int8_engine("auto") == ""  # torch's default (FBGEMM on x86)
    if "fbgemm" in supported:
        assert devices.choose_int8_engine("fbgemm") == "fbgemm"
    assert devices.choose_int8_engine("no-such-engine") == ""  # (not a choice the setting allows; a torch without it)
    settings.override("vlm.cpu_quantize", False)
    assert devices.plan(settings).int8_engine == ""  # no int8, no kernels to choose

    from vlagent.vlm.probe import probe_torch  # what vlagent doctor says

    monkeypatch.setattr(devices, "cpu_flags", lambda: {"amx_int8"})
    if "onednn" in supported:
        assert probe_torch()["model_int8_kernels"] == "onednn"
    monkeypatch.setattr(devices, "cpu_flags", lambda: set())
    assert probe_torch()["model_int8_kernels"] == torch.backends.quantized.engine
