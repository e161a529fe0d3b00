"""Finding and loading a Qwen-VL checkpoint (model + processor) for a :class:`Placement`."""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vlagent.common import reuse_freed_memory, trim_heap
from vlagent.vlm.base import ModelNotAvailable, VlmError
from vlagent.vlm.devices import Placement, mps_available

if TYPE_CHECKING:
    from vlagent.vlm.preprocess import PixelBuffer, VisionSpec

log = logging.getLogger(__name__)

SUPPORTED = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl")


def looks_like_path(model: str) -> bool:
    return model.startswith(("/", ".", "~")) or os.sep in model.replace("/", "") or (
        len(model) > 1 and model[1] == ":")  # Windows drive


def resolve_model_dir(model: str, *, home, settings) -> Path:
    """A local checkpoint directory for ``model`` (a directory, or a hub id the hub module
    resolves); raises :class:`ModelNotAvailable` with one sentence saying what to do."""
    model = (model or "").strip()
    if not model:
        raise ModelNotAvailable("no model configured: set vlm.model (a hub id or a local directory)")
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotAvailable(f"{path} is not a model directory (it has no config.json)")
        return path.resolve()
    if looks_like_path(model) or path.exists():
        raise ModelNotAvailable(f"no model directory at {path}")
    try:
        from vlagent.vlm.hub import resolve_model
    except ImportError:
        raise ModelNotAvailable(f"{model} is not a local directory and this installation cannot download "
                                "models; pass --model DIR with a downloaded checkpoint") from None
    return Path(resolve_model(model, home=home, settings=settings))


def model_type(path: Path) -> str:
    try:
        return json.loads((path / "config.json").read_text(encoding="utf-8")).get("model_type", "")
    except (OSError, ValueError) as e:
        raise VlmError(f"{path}/config.json cannot be read: {e}") from None


@dataclass
class Loaded:
    # transformers objects, used duck-typed: the Qwen-VL attributes read from them (model.model.visual,
    # processor.tokenizer, …) are not on transformers' base classes.
    model: Any  # a Qwen-VL *ForConditionalGeneration model
    processor: Any  # its AutoProcessor (tokenizer + image/video processors)
    path: Path
    model_type: str
    vision: VisionSpec  # patch 14 (Qwen2/2.5-VL) or 16 (Qwen3-VL): one visual token per (2·patch)² px
    pixels: PixelBuffer  # pixel_values memory reused batch after batch (generation is one at a time)


def load(path: Path, placement: Placement) -> Loaded:
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    if not sys.stderr.isatty():  # no "Loading weights" bars in logs and pipes
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    mtype = model_type(path)
    if mtype not in SUPPORTED:
        raise VlmError(f"{path} holds a {mtype or 'unknown'} model; vlagent runs {', '.join(SUPPORTED)}")
    dtype = getattr(torch, placement.dtype)
    # With int8 the checkpoint loads in its own dtype (bf16 for released models): the language
    # model then goes to int8 one layer at a time and only the vision tower is cast, so no
    # float32 copy of the whole model (15 GB for a 3B) ever exists.
    kwargs: dict = {"dtype": "auto" if placement.quantize else dtype,
                    "attn_implementation": placement.attn_implementation}
    if placement.on_cuda:
        kwargs["device_map"] = placement.device
    try:
        processor = AutoProcessor.from_pretrained(path)
        model = AutoModelForImageTextToText.from_pretrained(path, **kwargs).eval()
    except (OSError, ValueError, KeyError) as e:
        raise VlmError(f"could not load the model at {path}: {e}") from None
    if placement.on_mps:
        model.to(placement.device)
    processor.tokenizer.padding_side = "left"  # batched generation continues from the right edge
    if placement.quantize:
        if placement.int8_engine:  # before packing: the packed weights are the engine's own
            torch.backends.quantized.engine = placement.int8_engine
        quantize_language_model(model)
        model.model.visual.to(dtype)
        release_memory()
    if placement.device == "cpu":
        patch_embed_as_linear(model)
        reuse_freed_memory()  # after loading: the weights stay in their own mappings
    from vlagent.vlm.preprocess import PixelBuffer, VisionSpec

    return Loaded(model, processor, path, mtype, VisionSpec.of(processor), PixelBuffer())


def quantize_language_model(model) -> None:
    """int8 dynamic quantisation of the language model's Linear layers (and the LM head), one
    decoder layer at a time so a float32 copy never exists for the whole model at once.

    The LM then computes in float32 with int8 weights (decode is bound by reading weights, so
    this is the big CPU win; activations are quantised per tensor, which costs some quality).
    The vision tower is left as it is.
    """
    import torch
    from torch import nn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization is deprecated in favour of torchao
        from torch.ao.quantization import quantize_dynamic

        lm = model.model.language_model
        for layer in lm.layers:
            quantize_dynamic(layer.float(), {nn.Linear}, dtype=torch.qint8, inplace=True)
            # The replaced float32 Linears sit in reference cycles: free them now, or every
            # layer's float32 copy stays until the end (a 17 GB peak for a 3B model).
            release_memory()
        lm.float()
        holder = nn.ModuleDict({"head": model.lm_head.float()})
        model.lm_head = quantize_dynamic(holder, {nn.Linear}, dtype=torch.qint8, inplace=True)["head"]


def patch_embed_as_linear(model) -> bool:
    """The vision tower's patch embedding is a Conv3d whose kernel equals its stride: one
    matrix product over the flattened patches, which is what it computes here. On CPU the
    convolution kernel took 0.4 s of a 1080p screenshot's 5 s in the vision encoder (3B, two
    cores); the product takes milliseconds. Same weights, same result up to float rounding
    (tests/vlm/test_loading.py compares them for each supported architecture)."""
    import types

    from torch import nn
    from torch.nn import functional

    embed = getattr(getattr(getattr(model, "model", None), "visual", None), "patch_embed", None)
    conv = getattr(embed, "proj", None)
    if not isinstance(conv, nn.Conv3d) or tuple(conv.kernel_size) != tuple(conv.stride) or any(conv.padding) \
            or conv.groups != 1:
        return False

    def forward(self, hidden_states):
        weight = self.proj.weight
        flat = weight.reshape(weight.shape[0], -1)
        return functional.linear(hidden_states.reshape(-1, flat.shape[1]).to(weight.dtype), flat, self.proj.bias)

    assert embed is not None
    embed.forward = types.MethodType(forward, embed)
    return True


def release_memory() -> None:
    """Give freed memory back: the CUDA cache, and glibc's heap (else RSS stays high)."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    if mps_available():
        torch.mps.empty_cache()
    trim_heap()
