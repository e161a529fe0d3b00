"""Build a Qwen-VL checkpoint with random weights, for tests and benchmarks.

``python -m vlagent.dev.tiny_model OUT [--arch qwen2_5_vl|qwen2_vl|qwen3_vl]`` writes a tiny
model (hidden size 64, 2 layers, under a megabyte) with a byte-level BPE tokenizer trained
offline, the Qwen special tokens, a Qwen-style chat template and the matching processor —
everything ``AutoProcessor`` / ``AutoModelForImageTextToText`` load, in a few seconds.

``--like Qwen/Qwen2.5-VL-3B-Instruct`` instead uses that model's published dimensions (its
config.json values, kept below) with random bfloat16 weights: it runs at the real model's
speed, which is what the benchmarks measure; what it says is noise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                  "<|image_pad|>", "<|video_pad|>"]

ARCHS = ("qwen2_5_vl", "qwen2_vl", "qwen3_vl")

# A Qwen-style chat template: an image or video part becomes the vision placeholder that the
# processor expands to one pad token per visual token.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' or 'image' in part or 'image_url' in part %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'video' or 'video' in part %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in part %}{{ part['text'] }}"
    "{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Published config.json values of real checkpoints (dimensions from the public model cards).
REAL_CONFIGS: dict[str, dict] = {
    "Qwen/Qwen2.5-VL-3B-Instruct": {
        "model_type": "qwen2_5_vl",
        "tie_word_embeddings": True,
        "text_config": {
            "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 11008, "num_hidden_layers": 36,
            "num_attention_heads": 16, "num_key_value_heads": 2, "hidden_act": "silu",
            "max_position_embeddings": 128000, "max_window_layers": 70, "rms_norm_eps": 1e-6,
            "use_sliding_window": False, "sliding_window": 32768, "tie_word_embeddings": True,
            "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 24, 24]},
        },
        "vision_config": {
            "depth": 32, "hidden_act": "silu", "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16,
            "in_channels": 3, "out_hidden_size": 2048, "patch_size": 14, "spatial_merge_size": 2,
            "temporal_patch_size": 2, "window_size": 112, "fullatt_block_indexes": [7, 15, 23, 31],
            "tokens_per_second": 2,
        },
    },
    "Qwen/Qwen3-VL-2B-Instruct": {
        "model_type": "qwen3_vl",
        "tie_word_embeddings": True,
        "text_config": {
            "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 6144, "num_hidden_layers": 28,
            "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128, "hidden_act": "silu",
            "max_position_embeddings": 262144, "rms_norm_eps": 1e-6, "attention_bias": False,
            "tie_word_embeddings": True,
            "rope_parameters": {"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [24, 20, 20],
                                "mrope_interleaved": True},
        },
        "vision_config": {
            "depth": 24, "hidden_act": "gelu_pytorch_tanh", "hidden_size": 1024, "intermediate_size": 4096,
            "num_heads": 16, "in_channels": 3, "out_hidden_size": 2048, "patch_size": 16, "spatial_merge_size": 2,
            "temporal_patch_size": 2, "num_position_embeddings": 2304, "deepstack_visual_indexes": [5, 11, 17],
        },
    },
}

# Tiny dimensions per architecture (text head_dim 16 → mrope sections sum to 8).
TINY_TEXT = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 2, "hidden_act": "silu", "max_position_embeddings": 32768,
             "rms_norm_eps": 1e-6, "tie_word_embeddings": False}
TINY_VISION = {
    "qwen2_5_vl": {"depth": 2, "hidden_act": "silu", "hidden_size": 32, "intermediate_size": 64, "num_heads": 2,
                   "out_hidden_size": 64, "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2,
                   "window_size": 112, "fullatt_block_indexes": [1], "tokens_per_second": 2},
    "qwen2_vl": {"depth": 2, "embed_dim": 32, "hidden_size": 64, "hidden_act": "quick_gelu", "mlp_ratio": 2,
                 "num_heads": 2, "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2},
    "qwen3_vl": {"depth": 2, "hidden_act": "gelu_pytorch_tanh", "hidden_size": 32, "intermediate_size": 64,
                 "num_heads": 2, "out_hidden_size": 64, "patch_size": 16, "spatial_merge_size": 2,
                 "temporal_patch_size": 2, "num_position_embeddings": 64, "deepstack_visual_indexes": [0]},
}
TINY_ROPE = {
    "qwen2_5_vl": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [2, 3, 3]},
    "qwen2_vl": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [2, 3, 3]},
    "qwen3_vl": {"rope_type": "default", "rope_theta": 5000000.0, "mrope_section": [4, 2, 2],
                 "mrope_interleaved": True},
}
# Qwen3-VL normalises to [-1, 1]; Qwen2/2.5-VL use the CLIP mean and std.
CLIP_MEAN, CLIP_STD = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]


def _corpus() -> list[str]:
    from vlagent.samples import EN_SENTENCES, ZH_SENTENCES
    from vlagent.vlm.prompts import DESCRIBE, TRANSCRIBE

    extra = ["You are a helpful assistant.", "user", "assistant", "system", "image", "screenshot", "window",
             "text", "photo", "a dog standing in the snow", "这张图片展示了一个窗口", "截图", "文字", "图片"]
    lines = EN_SENTENCES + ZH_SENTENCES + list(DESCRIBE.values()) + list(TRANSCRIBE.values()) + extra
    return lines * 4


def build_tokenizer(vocab_size: int = 1200):
    """A byte-level BPE tokenizer with the Qwen special tokens at ids 0–6, as ``Qwen2Tokenizer``."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    tok = Tokenizer(models.BPE())
    # The same pre-tokenisation Qwen2Tokenizer applies, so the learned merges line up with it.
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(_corpus(), trainer)
    model = json.loads(tok.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in model["merges"]]
    # The hints are narrower than what the class takes: merges go to tokenizers' BPE, which takes (a, b)
    # pairs, and the base class takes None for any special token (bos_token defaults to it).
    qtok = Qwen2Tokenizer(vocab=model["vocab"], merges=merges,  # type: ignore[arg-type]
                          eos_token="<|im_end|>", pad_token="<|endoftext|>",
                          unk_token=None,  # type: ignore[arg-type]
                          extra_special_tokens=SPECIAL_TOKENS[1:])
    qtok.chat_template = CHAT_TEMPLATE
    qtok.padding_side = "left"
    return qtok


def _ids(tokenizer) -> dict[str, int]:
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    assert list(ids.values()) == list(range(len(SPECIAL_TOKENS))), ids
    return ids


def build_processor(arch: str, tokenizer, *, min_pixels: int | None = None, max_pixels: int | None = None):
    from transformers import AutoProcessor  # noqa: F401 - registers the processor classes
    from transformers.models.qwen2_vl import Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    patch = 16 if arch == "qwen3_vl" else 14
    mean, std = ([0.5] * 3, [0.5] * 3) if arch == "qwen3_vl" else (CLIP_MEAN, CLIP_STD)
    factor = patch * 2
    size = {"shortest_edge": min_pixels or 4 * factor * factor, "longest_edge": max_pixels or 16384 * factor * factor}
    image_processor = Qwen2VLImageProcessor(size=size, patch_size=patch, merge_size=2, temporal_patch_size=2,
                                            image_mean=mean, image_std=std)
    if arch == "qwen3_vl":
        from transformers.models.qwen3_vl import Qwen3VLProcessor, Qwen3VLVideoProcessor

        video3 = Qwen3VLVideoProcessor(patch_size=patch, image_mean=mean, image_std=std)
        return Qwen3VLProcessor(image_processor=image_processor, tokenizer=tokenizer, video_processor=video3,
                                chat_template=CHAT_TEMPLATE)
    video = Qwen2VLVideoProcessor(patch_size=patch, image_mean=mean, image_std=std)
    if arch == "qwen2_vl":
        from transformers.models.qwen2_vl import Qwen2VLProcessor

        return Qwen2VLProcessor(image_processor=image_processor, tokenizer=tokenizer, video_processor=video,
                                chat_template=CHAT_TEMPLATE)
    from transformers.models.qwen2_5_vl import Qwen2_5_VLProcessor

    return Qwen2_5_VLProcessor(image_processor=image_processor, tokenizer=tokenizer, video_processor=video,
                               chat_template=CHAT_TEMPLATE)


def build_config(arch: str, tokenizer, *, like: str | None = None):
    from transformers import AutoConfig

    ids = _ids(tokenizer)
    if like:
        spec = json.loads(json.dumps(REAL_CONFIGS[like]))
        arch = spec.pop("model_type")
        text, vision = spec.pop("text_config"), spec.pop("vision_config")
    else:
        spec = {"tie_word_embeddings": False}
        # Untied: a random model with tied embeddings tends to emit one token forever.
        text = dict(TINY_TEXT, vocab_size=len(tokenizer), rope_parameters=TINY_ROPE[arch])
        if arch == "qwen3_vl":
            text["head_dim"] = 16
        vision = dict(TINY_VISION[arch])
    text.update(bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
                pad_token_id=ids["<|endoftext|>"])
    return AutoConfig.for_model(
        arch, text_config=text, vision_config=vision, image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"], vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"], **spec)


def build(out: str | Path, arch: str = "qwen2_5_vl", *, like: str | None = None, seed: int = 0,
          dtype: str | None = None) -> Path:
    """Write a random checkpoint to ``out`` and return its path."""
    import torch
    from transformers import AutoModelForImageTextToText, GenerationConfig

    if like and like not in REAL_CONFIGS:
        raise ValueError(f"--like knows {', '.join(REAL_CONFIGS)}, not {like!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer()
    config = build_config(arch, tokenizer, like=like)
    arch = config.model_type
    torch.manual_seed(seed)
    torch_dtype = getattr(torch, dtype or ("bfloat16" if like else "float32"))
    model = AutoModelForImageTextToText.from_config(config, dtype=torch_dtype).eval()
    ids = _ids(tokenizer)
    model.generation_config = GenerationConfig(
        bos_token_id=ids["<|endoftext|>"], pad_token_id=ids["<|endoftext|>"],
        eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]])
    model.save_pretrained(out)
    build_processor(arch, tokenizer).save_pretrained(out)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vlagent.dev.tiny_model", description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="output directory")
    p.add_argument("--arch", choices=ARCHS, default="qwen2_5_vl")
    p.add_argument("--like", choices=sorted(REAL_CONFIGS), help="use a real model's dimensions (random weights)")
    p.add_argument("--dtype", choices=["float32", "bfloat16"], help="weights dtype (default: float32 tiny, "
                                                                    "bfloat16 --like)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    path = build(args.out, args.arch, like=args.like, seed=args.seed, dtype=args.dtype)
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    print(f"wrote {path} ({size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
