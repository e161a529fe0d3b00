"""The vision-language model interface every caller uses (queue steps, CLI, GUI, API).

Backends (local transformers, a remote OpenAI-compatible server) implement
:class:`VlmEngine`. Images are RGB PIL images (already loaded safely by
:mod:`vlagent.imaging`); generation knobs travel in :class:`GenerationOptions`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from PIL import Image

from vlagent import common
from vlagent.common import CancelToken

if TYPE_CHECKING:
    from vlagent.settings import Settings

__all__ = ["CancelToken", "Cancelled", "ChatManyEngine", "ChatMessage", "ChatRequest", "Generation",
           "GenerationOptions", "ModelNotAvailable", "OutOfMemory", "TokenCallback", "VlmEngine", "VlmError"]


class VlmError(Exception):
    """A model problem worth one clear sentence to the user."""


class ModelNotAvailable(VlmError):
    """The model is neither a local directory nor downloaded; the message says what to run."""


class OutOfMemory(VlmError):
    """Still out of memory after the smaller-batch and fewer-pixels retries."""


class Cancelled(VlmError, common.Cancelled):
    """A generation stopped because its cancel token was set (also a :class:`vlagent.common.Cancelled`)."""


@dataclass
class GenerationOptions:
    max_new_tokens: int = 256
    min_new_tokens: int | None = None  # benchmarks force a fixed length with this
    do_sample: bool = False
    temperature: float = 0.7
    top_k: int = 50
    top_p: float = 0.9
    repetition_penalty: float = 1.05
    # OpenAI's / vLLM's: subtracted from a token's logit once it appears in the answer (presence),
    # and per appearance (frequency); min_p keeps tokens at least that fraction as likely as the
    # best one; seed makes a sampled answer repeatable (greedy ones are anyway).
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    min_p: float = 0.0
    seed: int | None = None
    min_pixels: int = 4 * 28 * 28
    max_pixels: int = 1024 * 28 * 28
    resized_height: int = 0  # 0 = keep the aspect-preserving size from min/max_pixels
    resized_width: int = 0

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> GenerationOptions:
        vlm = settings.view.vlm
        opts = cls(max_new_tokens=vlm.max_new_tokens, do_sample=vlm.do_sample, temperature=vlm.temperature,
                   top_k=vlm.top_k, top_p=vlm.top_p, repetition_penalty=vlm.repetition_penalty,
                   min_pixels=vlm.min_pixels, max_pixels=vlm.max_pixels, resized_height=vlm.resized_height,
                   resized_width=vlm.resized_width)
        for k, v in overrides.items():
            if v is not None:
                setattr(opts, k, v)
        return opts

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ChatMessage:
    role: str  # "system" | "user" | "assistant"
    text: str
    images: list[Image.Image] = field(default_factory=list)


@dataclass
class Generation:
    text: str
    engine: str
    model: str
    prompt: str | None = None
    params: dict = field(default_factory=dict)
    # Latency split in ms: load (0 when already loaded), preprocess, generate, total;
    # plus counts: input_tokens, visual_tokens, new_tokens, tokens_per_s, peak_memory_mb, and
    # cached_tokens: the prompt tokens served from the prefix cache (not computed again).
    timings: dict = field(default_factory=dict)
    finish_reason: str = "stop"  # "stop" | "length" | "cancelled"

    @property
    def latency_ms(self) -> float | None:
        return self.timings.get("total_ms")


TokenCallback = Callable[[str], None]


@dataclass
class ChatRequest:
    """One conversation of a :meth:`chat_many` batch, with its own options, stream and cancel token."""

    messages: list[ChatMessage]
    options: GenerationOptions
    on_token: TokenCallback | None = None
    cancel: CancelToken | None = None


@runtime_checkable
class VlmEngine(Protocol):
    @property
    def name(self) -> str:
        """The backend: "transformers" or "openai"."""

    @property
    def model_id(self) -> str: ...

    @property
    def loaded(self) -> bool: ...

    def load(self) -> None:
        """Load now (otherwise the first call loads). Idempotent."""

    def unload(self) -> None:
        """Free the model's memory (RAM and VRAM). The next call loads again."""

    def describe(self, images: list[Image.Image], prompt: str, options: GenerationOptions | None = None,
                 cancel: CancelToken | None = None) -> list[Generation]:
        """One generation per image, same prompt, batched as the backend sees fit."""

    def chat(self, messages: list[ChatMessage], options: GenerationOptions | None = None,
             on_token: TokenCallback | None = None, cancel: CancelToken | None = None) -> Generation:
        """Answer the last user message of a (multi-turn) conversation about its images,
        streaming text pieces to ``on_token`` as they are generated."""


@runtime_checkable
class ChatManyEngine(Protocol):
    """An engine that answers several conversations at once (optional: callers fall back to
    one :meth:`VlmEngine.chat` at a time when an engine lacks it)."""

    def chat_many(self, requests: list[ChatRequest]) -> list[Generation | VlmError]:
        """One result per request, in order: its :class:`Generation` (finish_reason "cancelled"
        for a request whose token was set) or the :class:`VlmError` that request met. Each
        request's text streams to its own ``on_token`` as it is produced."""
        ...
