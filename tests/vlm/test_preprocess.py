"""The fast model inputs equal the stock processor's, for every architecture, on real
images: one chat and a batch, mixed sizes, images shrunk, enlarged and given a fixed size."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from qwen_vl_utils import process_vision_info
from transformers import AutoProcessor

from vlagent.samples import photo_like, screenshot_like, text_image
from vlagent.vlm.preprocess import VisionSpec, build_inputs, resized_pixels


def chats(images):
    budget = {"min_pixels": 4 * 32 * 32, "max_pixels": 300 * 32 * 32}
    shot, photo, small = images
    return [
        [{"role": "user", "content": [{"type": "image", "image": shot, **budget},
                                      {"type": "text", "text": "Describe this screenshot."}]}],
        [{"role": "user", "content": [{"type": "image", "image": photo, **budget},
                                      {"type": "image", "image": small, "resized_height": 90, "resized_width": 120},
                                      {"type": "text", "text": "这两张图有什么不同？"}]},
         {"role": "assistant", "content": [{"type": "text", "text": "The first is a photo."}]},
         {"role": "user", "content": [{"type": "text", "text": "And the second?"}]}],
    ]


@pytest.fixture(scope="module")
def images(cjk_font_path):
    return [screenshot_like(1920, 1080, seed=2)[0], photo_like(640, 480, seed=3).convert("RGBA"),
            text_image(["OK 好"], font_size=12)]  # 25 px high: enlarged


@pytest.mark.parametrize("arch", ["qwen2_5_vl", "qwen2_vl", "qwen3_vl"])
def test_inputs_equal_the_stock_processor_given_the_same_pixels(tiny_model_factory, images, arch):
    processor = AutoProcessor.from_pretrained(tiny_model_factory(arch))
    processor.tokenizer.padding_side = "left"
    spec = VisionSpec.of(processor)
    conversations = chats(images)
    prepared = build_inputs(processor, conversations, spec)
    fast, sizes = prepared.inputs, prepared.sizes

    # The stock path: qwen-vl-utils sizes the images, the processor does the rest.
    stock_images, _ = process_vision_info(conversations, image_patch_size=spec.patch)
    assert sizes == [im.size for im in stock_images]
    # Same pixels into both (the resize kernels differ by rounding), to compare the rest exactly.
    same = [Image.fromarray(resized_pixels(im, h, w).permute(1, 2, 0).numpy())
            for im, (w, h) in zip([p["image"] for c in conversations for m in c for p in m["content"]
                                   if p["type"] == "image"], sizes)]
    texts = [processor.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations]
    stock = processor(text=texts, images=same, padding=True, return_tensors="pt", do_resize=False)

    assert set(fast) == set(stock)
    for key in ("input_ids", "attention_mask", "mm_token_type_ids", "image_grid_thw"):
        assert torch.equal(fast[key], stock[key]), key
        assert fast[key].dtype == stock[key].dtype, key
    assert fast["pixel_values"].shape == stock["pixel_values"].shape
    assert torch.allclose(fast["pixel_values"], stock["pixel_values"], atol=1e-5)
    assert fast["input_ids"][0, 0] == processor.tokenizer.pad_token_id  # the shorter chat is left-padded
    assert prepared.resize_ms > 0 and prepared.processor_ms > 0


@pytest.mark.parametrize("factor", [28, 32])
def test_sizes_and_pixels_are_qwen_vl_utils_within_rounding(images, factor):
    from qwen_vl_utils import fetch_image

    from vlagent.vlm import GenerationOptions
    from vlagent.vlm.preprocess import target_size
    from vlagent.vlm.transformers_backend import image_part

    for img in [*images, screenshot_like(1280, 720, seed=1)[0]]:
        for opts in (GenerationOptions(max_pixels=128 * 28 * 28), GenerationOptions(min_pixels=512 * 28 * 28),
                     GenerationOptions(resized_height=300)):
            part = image_part(img, opts)
            reference = fetch_image(part, image_patch_size=factor // 2)  # qwen-vl-utils on the original
            h, w = target_size(img, part, factor)
            assert (w, h) == reference.size
            ours = resized_pixels(img, h, w).permute(1, 2, 0).numpy().astype(int)
            diff = np.abs(ours - np.asarray(reference, dtype=int))
            assert diff.max() <= 2 and diff.mean() < 0.01  # rounding, on a few pixels


def test_transparency_reads_as_white():
    clear = Image.new("RGBA", (56, 56), (0, 0, 0, 0))
    assert resized_pixels(clear, 56, 56).min() == 255
    assert resized_pixels(clear, 28, 28).min() == 255


def test_pixel_buffer_is_reused_and_grows_when_needed():
    from vlagent.vlm.preprocess import PixelBuffer

    buffer = PixelBuffer()
    a = buffer.take(10, 6)
    assert a.shape == (10, 6)
    b = buffer.take(4, 6)
    assert b.data_ptr() == a.data_ptr()  # the same memory, not a fresh allocation
    c = buffer.take(100, 6)
    assert c.shape == (100, 6) and buffer.take(10, 6).data_ptr() == c.data_ptr()
