"""Creating the configured engine (``vlm.backend``) without importing any backend early."""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING

from vlagent.vlm.base import ChatRequest, Generation, VlmEngine, VlmError

if TYPE_CHECKING:
    from vlagent.settings import Settings

# backend name → "module:class"; a backend's heavy imports happen only when it is chosen.
BACKENDS = {
    "transformers": "vlagent.vlm.transformers_backend:TransformersEngine",
    "openai": "vlagent.vlm.openai_backend:OpenAIEngine",
}


# backend name → the packages it cannot start without (the local model: the ``vlm`` extra).
REQUIRES = {"transformers": ("torch", "transformers")}


def _missing_package(backend: str, package: str | None) -> VlmError:
    hint = " (pip install 'vlagent[vlm]', or use a remote server: vlm.backend openai)" \
        if backend == "transformers" else ""
    return VlmError(f"the {backend} backend needs the {package} package, which is not installed{hint}")


def check_installed(backend: str) -> None:
    """Raise :class:`VlmError` saying what to install when a package ``backend`` needs is
    missing; imports nothing, so it can run before anything else is asked of the user."""
    import importlib.util

    for package in REQUIRES.get(backend, ()):
        try:
            found = importlib.util.find_spec(package) is not None
        except (ImportError, ValueError):  # a broken or stubbed-out install
            found = False
        if not found:
            raise _missing_package(backend, package)


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
        raise _missing_package(backend, e.name) from None
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

    def chat_many(self, requests: list[ChatRequest]) -> list[Generation | VlmError]:
        """The engine's own :meth:`chat_many`, or one :meth:`chat` after another where it has none."""
        engine = self.get()
        many = getattr(engine, "chat_many", None)
        if many is not None:
            return many(requests)
        out: list[Generation | VlmError] = []
        for r in requests:
            try:
                out.append(engine.chat(r.messages, r.options, on_token=r.on_token, cancel=r.cancel))
            except VlmError as e:
                out.append(e)
        return out
