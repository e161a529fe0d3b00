"""Counting a request's tokens as the local model will see them: ``/tokenize``, ``/detokenize``
and ``--max-model-len``.

The engine's interface has no tokenizer of its own yet, so this reads the loaded local
model's processor (the transformers backend's ``_loaded.processor``; a public
``processor`` attribute first, where an engine has one) and keeps a private copy of its
tokenizer: a fast tokenizer changes its padding state while encoding, so request threads
must not share the worker's. Images count as the model counts them: one token per
``factor × factor`` pixels of the size the engine resizes them to.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from vlagent.vlm.base import ChatMessage, GenerationOptions


class NoTokenizer(Exception):
    """This backend has no local tokenizer (a remote model, no model at all)."""


class Tokens:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source: Any = None  # the processor the copies were made from
        self._processor: Any = None
        self._tokenizer: Any = None
        self._vision: Any = None

    def ready(self, engine: Any) -> bool:
        return _processor(engine) is not None

    def bind(self, engine: Any) -> None:
        """Take the loaded model's processor (copies made once per model load)."""
        processor = _processor(engine)
        if processor is None:
            raise NoTokenizer("the model's tokenizer is not available: the model is not loaded, or it runs "
                              "on a remote server (vlm.backend openai)")
        with self._lock:
            if processor is not self._source:
                from vlagent.vlm.preprocess import VisionSpec

                self._vision = VisionSpec.of(processor)
                self._tokenizer = copy.deepcopy(processor.tokenizer)
                self._processor = processor
                self._source = processor

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        with self._lock:
            return list(self._tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"])

    def decode(self, ids: list[int]) -> str:
        with self._lock:
            return str(self._tokenizer.decode(ids, skip_special_tokens=False))

    def token_strs(self, ids: list[int]) -> list[str]:
        with self._lock:
            return [str(t) for t in self._tokenizer.convert_ids_to_tokens(ids)]

    @property
    def vocab_size(self) -> int:
        return int(len(self._tokenizer))

    def chat_ids(self, messages: list[ChatMessage], options: GenerationOptions,
                 add_generation_prompt: bool = True) -> list[int]:
        """The prompt's token ids, each image expanded to its visual tokens."""
        from vlagent.vlm.preprocess import target_size
        from vlagent.vlm.transformers_backend import conversation

        conv = conversation(messages, options)
        text = self._processor.apply_chat_template(conv, tokenize=False, add_generation_prompt=add_generation_prompt)
        spec = self._vision
        counts = iter([h * w // (spec.factor ** 2) for part in (p for m in conv for p in m["content"])
                       if part["type"] == "image" for h, w in [target_size(part["image"], part, spec.factor)]])
        pieces = text.split(spec.image_token)
        text = pieces[0] + "".join(spec.image_token * next(counts, 1) + piece for piece in pieces[1:])
        return self.encode(text, add_special_tokens=False)


def _processor(engine: Any) -> Any:
    if engine is None:
        return None
    inner = engine.get() if hasattr(engine, "get") and callable(engine.get) else engine
    processor = getattr(inner, "processor", None)
    if processor is None:
        processor = getattr(getattr(inner, "_loaded", None), "processor", None)
    return processor if processor is not None and hasattr(processor, "tokenizer") else None
