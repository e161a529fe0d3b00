"""Loading on CPU: the vision patch embedding as one matrix product, freed memory kept for reuse."""

from __future__ import annotations

import pytest
import torch

from vlagent.samples import screenshot_like

ARCHS = ["qwen2_5_vl", "qwen2_vl", "qwen3_vl"]


@pytest.mark.parametrize("arch", ARCHS)
def test_patch_embed_as_linear_equals_the_convolution(tiny_model_factory, make_engine, arch):
    from vlagent.vlm import GenerationOptions
    from vlagent.vlm.preprocess import build_inputs
    from vlagent.vlm.transformers_backend import conversation

    engine = make_engine(tiny_model_factory(arch))
    engine.load()
    loaded = engine._loaded
    embed = loaded.model.model.visual.patch_embed
    assert "forward" in vars(embed), "on CPU the engine replaces the Conv3d forward"
    image = screenshot_like(640, 360, seed=3)[0]
    from vlagent.vlm import ChatMessage

    prepared = build_inputs(loaded.processor, [conversation([ChatMessage("user", "hi", [image])],
                                                            GenerationOptions.from_settings(engine.settings))],
                            loaded.vision, loaded.pixels)
    pixels = prepared.inputs["pixel_values"]
    with torch.inference_mode():
        ours = embed(pixels)
        stock = type(embed).forward(embed, pixels)  # the class's own Conv3d path
    assert ours.shape == stock.shape == (pixels.shape[0], embed.proj.out_channels)
    assert torch.allclose(ours, stock, rtol=1e-4, atol=1e-5)
    assert not torch.equal(ours, torch.zeros_like(ours))


def test_reuse_freed_memory_is_set_once_on_linux():
    import sys

    from vlagent.common import reuse_freed_memory

    first = reuse_freed_memory()
    assert reuse_freed_memory() == first
    assert first == sys.platform.startswith("linux")
