"""Creating the configured engine (``vlm.backend``) without importing any backend early."""

from __future__ import annotations

import importlib

from vlagent.vlm.base import VlmEngine, VlmError

# backend name → "module:class"; a backend's heavy imports happen only when it is chosen.
BACKENDS = {
    "transformers": "vlagent.vlm.transformers_backend:TransformersEngine",
    "openai": "vlagent.vlm.openai_backend:OpenAIEngine",
}


def create_engine(settings, home) -> VlmEngine:
    backend = settings.get("vlm.backend")
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
