"""Creating the configured engine (``vlm.backend``) without importing any backend early."""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING

from vlagent.vlm.base import VlmEngine, VlmError

if TYPE_CHECKING:
    from vlagent.settings import Settings

# backend name → "module:class"; a backend's heavy imports happen only when it is chosen.
BACKENDS = {
    "transformers": "vlagent.vlm.transformers_backend:TransformersEngine",
    "openai": "vlagent.vlm.openai_backend:OpenAIEngine",
}


def create_engine(settings: Settings, home) -> VlmEngine:
    backend = settings.view.vlm.backend
    target = BACKENDS.get(backend)
    if target is None:
        raise VlmError(f"unknown vlm.backend {backend!r} (known: {', '.join(BACKENDS)})")
    module_name, class_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name == module_name:
            raise VlmError(f"the {backend} backend is not part of this installation") from None
        hint = " (pip install 'vlagent[vlm]', or use a remote server: vlm.backend openai)" \
            if backend == "transformers" else ""
        raise VlmError(f"the {backend} backend needs the {e.name} package, which is not installed{hint}") from None
    return getattr(module, class_name)(settings, home)


class LazyEngine:
    """A :class:`~vlagent.vlm.base.VlmEngine` that builds the configured one on first use (no torch
    import before that): the one engine the worker, its steps and the API share."""

    def __init__(self, settings: Settings, home, engine: VlmEngine | None = None):
        self.settings, self.home = settings, home
        self._engine = engine
        self._lock = threading.Lock()

    def get(self) -> VlmEngine:
        with self._lock:
            if self._engine is None:
                self._engine = create_engine(self.settings, self.home)
            return self._engine

    @property
    def name(self) -> str:
        return self.get().name

    @property
    def model_id(self) -> str:
        return self._engine.model_id if self._engine is not None else self.settings.view.vlm.model

    @property
    def loaded(self) -> bool:
        return self._engine is not None and self._engine.loaded

    def load(self) -> None:
        self.get().load()

    def unload(self) -> None:
        if self._engine is not None:
            self._engine.unload()

    def describe(self, images, prompt, options=None, cancel=None):
        return self.get().describe(images, prompt, options, cancel=cancel)

    def chat(self, messages, options=None, on_token=None, cancel=None):
        return self.get().chat(messages, options, on_token=on_token, cancel=cancel)
