"""What the local engine's libraries can do here: torch, CUDA and torchvision, as ``vlagent doctor``
reports them. torch is imported only when :func:`probe_torch` is called, and an install without it
(OCR only) is an answer, not an error.
"""

from __future__ import annotations

from typing import Any


def probe_torch() -> dict[str, Any]:
    """torch's version, CUDA devices (and bfloat16 support), threads and torchvision's version.

    ``ok`` is False when torch or torchvision is installed but cannot be imported; a missing
    torch is ``ok`` with ``installed: False``.
    """
    try:
        import torch
    except ModuleNotFoundError as e:
        if e.name != "torch":
            return {"ok": False, "error": f"{e.__class__.__name__}: {e}"}
        # An OCR-only install: search, OCR and a remote model backend work without it.
        return {"ok": True, "installed": False,
                "note": "not installed; the local model needs: pip install 'vlagent[vlm]'"}
    except Exception as e:  # noqa: BLE001 - report anything
        return {"ok": False, "error": f"{e.__class__.__name__}: {e}"}
    info: dict[str, Any] = {"ok": True, "version": torch.__version__, "cuda_available": torch.cuda.is_available(),
                            "threads": torch.get_num_threads()}
    if info["cuda_available"]:
        info["devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        info["bf16"] = torch.cuda.is_bf16_supported()
    from vlagent.vlm.devices import choose_device, choose_dtype, choose_int8_engine, mps_available, mps_has_bf16

    info["mps_available"] = mps_available()  # Apple silicon's GPU
    if info["mps_available"]:
        info["mps_bf16"] = mps_has_bf16()
    try:
        device = choose_device("auto")
        info["model_device"] = device  # where vlm.device auto puts the model, and in what dtype
        info["model_dtype"] = choose_dtype("auto", device)
        if device == "cpu":  # the int8 language model's kernels under vlm.int8_engine auto
            info["model_int8_kernels"] = choose_int8_engine("auto") or torch.backends.quantized.engine
    except Exception as e:  # noqa: BLE001 - report anything
        info["model_device"] = f"unknown ({e})"
    try:
        import torchvision

        info["torchvision"] = torchvision.__version__
    except Exception as e:  # noqa: BLE001
        info["ok"] = False
        info["error"] = f"torchvision cannot be imported ({e}); the Qwen-VL processor needs it"
    return info
