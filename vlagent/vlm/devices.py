"""Where and how the model runs: device, dtype, attention kernel and int8.

``auto`` picks CUDA when present, then Apple silicon's GPU (MPS), then the CPU; bfloat16
where it is fast (CUDA with bf16 support, a CPU with native bf16 instructions, MPS where the
OS supports it — float32 there otherwise: float16 overflows in Qwen2.5-VL's vision tower),
flash-attention 2 when installed and usable (sdpa otherwise, MPS included), and on CPU int8
dynamic quantisation of the language model (``vlm.cpu_quantize``).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vlagent.settings import Settings

log = logging.getLogger(__name__)

FP16_WARNING = ("float16 is known to make Qwen2.5-VL produce garbage (overflow in the vision tower); "
                "use bfloat16 (or float32) instead")


@dataclass
class Placement:
    device: str  # "cpu" | "cuda:N" | "mps"
    dtype: str  # "float32" | "bfloat16" | "float16"
    attn_implementation: str  # "flash_attention_2" | "sdpa" | "eager"
    quantize: bool  # int8 dynamic quantisation of the language model (CPU only)
    notes: list[str] = field(default_factory=list)
    int8_engine: str = ""  # torch's quantized engine for it ("onednn" on AMX CPUs; "" = torch's default)

    @property
    def on_cuda(self) -> bool:
        return self.device.startswith("cuda")

    @property
    def on_mps(self) -> bool:
        return self.device == "mps"


def mps_available() -> bool:
    """Apple silicon's GPU through torch's Metal backend."""
    import torch

    backend = getattr(torch.backends, "mps", None)
    try:
        return bool(backend is not None and backend.is_available())
    except (AttributeError, RuntimeError):
        return False


def mps_has_bf16() -> bool:
    """bfloat16 on MPS needs macOS 14 or later; ask by making one."""
    import torch

    try:
        torch.ones(1, dtype=torch.bfloat16, device="mps")
    except (RuntimeError, TypeError):
        return False
    return True


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux lists them (empty elsewhere or when unreadable)."""
    if sys.platform != "linux":
        return frozenset()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
            return frozenset(f.read().split())
    except OSError:
        return frozenset()


def cpu_has_fast_bf16() -> bool:
    """True when the CPU computes bfloat16 natively (AVX512-BF16, AMX, ARM BF16); without
    that, bf16 matmuls are emulated and slower than float32."""
    import torch

    try:
        if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
            return False
    except (AttributeError, RuntimeError):
        return False
    if sys.platform == "linux":
        return bool(cpu_flags() & {"avx512_bf16", "amx_bf16", "bf16"})
    return sys.platform == "darwin"  # Apple M2 and later; oneDNN answered for this CPU above


def choose_int8_engine(setting: str = "auto") -> str:
    """torch's quantized engine for the int8 language model (``vlm.int8_engine``). ``auto``:
    oneDNN on CPUs with AMX-INT8 tiles (it uses them; FBGEMM, torch's x86 default for this, does
    not: a prompt-sized int8 product ran 2.3x faster on the reference CPU, a decode-sized one
    ~15% slower (``bench/vlm.py gemm``); the price is a second copy of the int8 weights), else torch's
    default (""). An engine this torch lacks falls back to the default with a warning."""
    import torch

    supported = torch.backends.quantized.supported_engines
    if setting == "auto":
        return "onednn" if "amx_int8" in cpu_flags() and "onednn" in supported else ""
    if setting not in supported:
        log.warning("vlm.int8_engine %s is not in this torch (it has %s); using its default",
                    setting, ", ".join(e for e in supported if e != "none"))
        return ""
    return setting


def choose_device(setting: str) -> str:
    import torch

    setting = (setting or "auto").strip().lower()
    if setting == "auto":
        if torch.cuda.is_available():
            return "cuda:0"
        return "mps" if mps_available() else "cpu"
    if setting == "cpu":
        return "cpu"
    if setting == "mps":
        if not mps_available():
            raise ValueError("vlm.device is 'mps' but torch reports no Apple GPU (MPS) here (use auto or cpu)")
        return "mps"
    if setting == "cuda" or setting.startswith("cuda:"):
        index = int(setting.split(":", 1)[1]) if ":" in setting else 0
        if not torch.cuda.is_available():
            raise ValueError(f"vlm.device is {setting!r} but no CUDA GPU is available (use auto or cpu)")
        if index >= torch.cuda.device_count():
            raise ValueError(f"vlm.device is {setting!r} but only {torch.cuda.device_count()} GPU(s) exist")
        return f"cuda:{index}"
    raise ValueError(f"vlm.device must be auto, cpu, cuda, cuda:N or mps, not {setting!r}")


def choose_dtype(setting: str, device: str) -> str:
    import torch

    if device == "mps":
        if setting == "bfloat16" and not mps_has_bf16():
            log.warning("this Mac's GPU has no bfloat16 (macOS 14 or later needed); using float32")
            return "float32"
        if setting != "auto":
            return setting
        return "bfloat16" if mps_has_bf16() else "float32"  # float16 overflows in Qwen2.5-VL's vision tower
    if setting != "auto":
        return setting
    if device.startswith("cuda"):
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    return "bfloat16" if cpu_has_fast_bf16() else "float32"


def choose_attention(setting: str, device: str, dtype: str) -> str:
    usable_fa2 = (device.startswith("cuda") and dtype in ("bfloat16", "float16")
                  and importlib.util.find_spec("flash_attn") is not None)
    if setting == "auto":
        return "flash_attention_2" if usable_fa2 else "sdpa"
    if setting == "flash_attention_2" and not usable_fa2:
        log.warning("flash_attention_2 needs CUDA, a 16-bit dtype and the flash-attn package; using sdpa")
        return "sdpa"
    return setting


def plan(settings: Settings) -> Placement:
    """Resolve the ``vlm.*`` placement settings for this machine."""
    v = settings.view.vlm
    device = choose_device(v.device)
    dtype = choose_dtype(v.dtype, device)
    notes = []
    if dtype == "float16":
        notes.append(FP16_WARNING)
        log.warning(FP16_WARNING)
    if dtype == "bfloat16" and device == "cpu" and not cpu_has_fast_bf16():
        notes.append("this CPU has no native bfloat16: float32 is usually faster here")
    attn = choose_attention(v.attn_implementation, device, dtype)
    quantize = v.cpu_quantize and device == "cpu"
    return Placement(device, dtype, attn, quantize, notes,
                     int8_engine=choose_int8_engine(v.int8_engine) if quantize else "")
