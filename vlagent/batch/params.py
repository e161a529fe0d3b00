"""The batch operator's parameters, under the names of the seed operator's table, and how
each maps onto vlagent's settings (so a batch row runs with exactly the knobs the engine has).

| seed parameter          | vlagent setting                                   |
|-------------------------|---------------------------------------------------|
| image_src_type          | how string inputs are read: auto, url, base64, path (bytes are always bytes) |
| model_path              | vlm.model (a local folder or a hub id)            |
| model_name              | vlm.openai_model for a remote backend; else the name recorded with each row |
| prompt                  | the default prompt (a prompts column overrides it per row) |
| batch_size              | vlm.batch_size                                    |
| dtype                   | vlm.dtype (bfloat16 / float16 / float32 / auto)   |
| use_flash_attention_2   | vlm.attn_implementation = flash_attention_2 (sdpa, with a warning, where it cannot run) |
| max_caption_length      | vlm.max_new_tokens                                |
| resized_height / _width | vlm.resized_height / vlm.resized_width            |
| do_sample, temperature, top_k, top_p | vlm.do_sample, vlm.temperature, vlm.top_k, vlm.top_p |
| rank                    | vlm.device = cuda:RANK (ignored with a warning without CUDA) |

vlagent's own additions: ``backend`` / ``base_url`` / ``api_key`` (a remote OpenAI-compatible
server such as a vLLM fleet instead of a model in each actor), ``ocr`` (also read the text with
RapidOCR), ``max_pixels``, ``allow_private_urls``, ``download_concurrency``, ``retries``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

log = logging.getLogger(__name__)

SEED_DEFAULT_PROMPT = "请给出这张图片的详细描述。"
SrcType = Literal["auto", "url", "base64", "binary", "path"]


@dataclass(frozen=True)
class BatchParams:
    image_src_type: SrcType = "auto"
    model_path: str | None = None
    model_name: str | None = None
    prompt: str | None = None  # None: vlagent's describe prompt for general.language
    batch_size: int = 4
    dtype: str = "auto"
    use_flash_attention_2: bool = False
    max_caption_length: int = 256
    resized_height: int | None = None
    resized_width: int | None = None
    do_sample: bool = False
    temperature: float = 0.7
    top_k: int = 50
    top_p: float = 0.9
    rank: int | None = None
    # vlagent's own
    backend: Literal["transformers", "openai"] = "transformers"
    base_url: str | None = None
    api_key: str | None = None
    ocr: bool = False
    max_pixels: int | None = None
    language: Literal["auto", "en", "zh"] = "auto"
    allow_private_urls: bool = False
    download_concurrency: int = 8
    retries: int = 2
    home: str | None = None  # where local models are looked up (default: the vlagent data home)
    extra_settings: dict[str, Any] = field(default_factory=dict)  # any other vlagent setting, by key

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> BatchParams:
        """Like the constructor, with a one-line error naming an unknown parameter."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise ValueError(f"unknown batch parameter(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        return cls(**kwargs)

    def __post_init__(self) -> None:
        if self.image_src_type not in ("auto", "url", "base64", "binary", "path"):
            raise ValueError(f"image_src_type must be auto, url, base64, binary or path, not {self.image_src_type!r}")
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if self.max_caption_length < 1:
            raise ValueError("max_caption_length must be at least 1")
        if self.dtype not in ("auto", "bfloat16", "float16", "float32", "bf16", "fp16", "fp32"):
            raise ValueError(f"dtype must be bfloat16, float16, float32 or auto, not {self.dtype!r}")

    def settings_values(self) -> dict[str, Any]:
        """The vlagent settings these parameters stand for (keys as in ``vlagent config``)."""
        dtype = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}.get(self.dtype, self.dtype)
        v: dict[str, Any] = {
            "vlm.backend": self.backend,
            "vlm.batch_size": self.batch_size,
            "vlm.dtype": dtype,
            "vlm.attn_implementation": "flash_attention_2" if self.use_flash_attention_2 else "auto",
            "vlm.max_new_tokens": self.max_caption_length,
            "vlm.resized_height": self.resized_height or 0,
            "vlm.resized_width": self.resized_width or 0,
            "vlm.do_sample": self.do_sample,
            "vlm.temperature": self.temperature,
            "vlm.top_k": self.top_k,
            "vlm.top_p": self.top_p,
            "general.language": self.language,
            "net.allow_private_urls": self.allow_private_urls,
            "vlm.idle_unload_s": 0.0,  # an actor keeps its model for its whole life
        }
        if self.model_path:
            v["vlm.model"] = self.model_path
        if self.backend == "openai":
            if not self.base_url:
                raise ValueError("backend 'openai' needs base_url (the OpenAI-compatible server, e.g. http://host:8000/v1)")
            v["vlm.openai_base_url"] = self.base_url
            v["vlm.openai_model"] = self.model_name or self.model_path or ""
            if self.api_key:
                v["vlm.openai_api_key"] = self.api_key
        if self.max_pixels:
            v["vlm.max_pixels"] = self.max_pixels
        if self.rank is not None:
            v["vlm.device"] = f"cuda:{self.rank}" if _cuda_available() else "auto"
            if not _cuda_available():
                log.warning("rank=%s asks for a GPU, but CUDA is not available here: running on %s",
                            self.rank, "the CPU")
        v.update(self.extra_settings)
        return v


def _cuda_available() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    from vlagent.vlm.probe import probe_torch

    return bool(probe_torch().get("cuda_available"))
