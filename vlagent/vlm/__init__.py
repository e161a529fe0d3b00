"""Vision-language models behind one interface (:class:`vlagent.vlm.base.VlmEngine`)."""

from vlagent.vlm.base import (
    Cancelled,
    CancelToken,
    ChatManyEngine,
    ChatMessage,
    ChatRequest,
    Generation,
    GenerationOptions,
    ModelNotAvailable,
    OutOfMemory,
    VlmEngine,
    VlmError,
)

__all__ = ["CancelToken", "Cancelled", "ChatManyEngine", "ChatMessage", "ChatRequest", "Generation",
           "GenerationOptions", "ModelNotAvailable", "OutOfMemory", "VlmEngine", "VlmError"]
