"""Per-request generation knobs, as OpenAI's and vLLM's clients send them, turned into
:class:`~vlagent.vlm.base.GenerationOptions` — or refused with a 400 that names the field.

Nothing a client sends is dropped without a word. A field either changes the generation
(``temperature``, ``top_p``, ``top_k``, ``min_p``, ``repetition_penalty``, ``presence_penalty``,
``frequency_penalty``, ``seed``, ``min_tokens``, the token limits, the pixel budget, ``stop`` in
:mod:`vlagent.api.chat`), or is accepted at the value that changes nothing (``logprobs: false``,
``n: 1`` …), or is one OpenAI itself does not use for generating (``user``, ``metadata``,
``store`` …), or is refused. ``seed`` makes a sampled answer repeatable (such a request is
answered alone, not batched with others); greedy answers are the same for every seed.

Sampling: ``temperature`` 0 is greedy decoding; above 0 it samples. ``top_p``, ``top_k`` or
``min_p`` without a ``temperature`` turn sampling on (at ``vlm.temperature``), as they mean
nothing otherwise; ``top_k`` of -1 or 0 is no top-k.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from vlagent.api.errors import ApiError
from vlagent.vlm.base import GenerationOptions

MAX_NEW_TOKENS = 32768
OPTION_FIELDS = frozenset(f.name for f in dataclasses.fields(GenerationOptions))
# Knobs only some engines have: honoured when GenerationOptions has the field, else refused
# unless neutral (every engine here has these four now; a new engine may not).
ENGINE_KNOBS = {"seed": None, "min_p": 0.0, "presence_penalty": 0.0, "frequency_penalty": 0.0}


def _int(lo: int | None = None, hi: int | None = None) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and (lo is None or v >= lo) and (
        hi is None or v <= hi)


def _num(lo: float | None = None, hi: float | None = None, *, open_lo: bool = False) -> Callable[[Any], bool]:
    def ok(v: Any) -> bool:
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return False
        if lo is not None and (v <= lo if open_lo else v < lo):
            return False
        return hi is None or v <= hi
    return ok


# canonical knob → (check, what it must be)
KNOBS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "max_new_tokens": (_int(1, MAX_NEW_TOKENS), f"an integer from 1 to {MAX_NEW_TOKENS}"),
    "min_new_tokens": (_int(0, MAX_NEW_TOKENS), f"an integer from 0 to {MAX_NEW_TOKENS}"),
    "do_sample": (lambda v: isinstance(v, bool), "true or false"),
    "temperature": (_num(0, 2), "a number from 0 to 2"),
    "top_p": (_num(0, 1, open_lo=True), "a number above 0, at most 1"),
    "top_k": (_int(-1), "an integer (-1 or 0: no top-k)"),
    "min_p": (_num(0, 1), "a number from 0 to 1"),
    "repetition_penalty": (_num(0, 10, open_lo=True), "a number above 0 (1: none)"),
    "presence_penalty": (_num(-2, 2), "a number from -2 to 2"),
    "frequency_penalty": (_num(-2, 2), "a number from -2 to 2"),
    "seed": (_int(-(2**63), 2**64 - 1), "an integer"),
    "min_pixels": (_int(1, 2**31), "a positive integer"),
    "max_pixels": (_int(1, 2**31), "a positive integer"),
    "resized_height": (_int(0, 16384), "an integer from 0 to 16384 (0: keep)"),
    "resized_width": (_int(0, 16384), "an integer from 0 to 16384 (0: keep)"),
}


def bad(message: str, param: str | None) -> ApiError:
    return ApiError(400, message, param=param, code="invalid_value")


def check(name: str, value: Any, param: str | None = None) -> Any:
    """``value`` for the knob ``name``, or a 400 saying what it must be."""
    ok, what = KNOBS[name]
    if not ok(value):
        raise bad(f"{param or name} must be {what}; got {value!r}", param or name)
    return value


def from_text(name: str, text: str, param: str | None = None) -> Any:
    """A knob from a form field or a query parameter (text)."""
    t = text.strip()
    kind = KNOBS[name][1]
    value: Any = t
    try:
        if kind.startswith("true"):
            if t.lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                raise ValueError
            value = t.lower() in ("true", "1", "yes", "on")
        elif kind.startswith(("an integer", "a positive integer")):
            value = int(t)
        else:
            value = float(t)
    except ValueError:
        raise bad(f"{param or name} must be {kind}; got {text!r}", param or name) from None
    return check(name, value, param)


def build_options(knobs: dict[str, Any], settings, params: dict[str, str] | None = None) -> GenerationOptions:
    """Options for one request: the settings, then the request's ``knobs`` (canonical names,
    checked values, None = not sent). ``params`` maps a knob to the field name the client
    used, for the error messages."""
    params = params or {}
    k = {name: v for name, v in knobs.items() if v is not None}
    overrides: dict[str, Any] = {}
    for name in ("max_new_tokens", "min_new_tokens", "repetition_penalty", "min_pixels", "max_pixels",
                 "resized_height", "resized_width", "top_p"):
        if name in k:
            overrides[name] = k[name]
    if "top_k" in k:
        overrides["top_k"] = max(0, k["top_k"])
    if "do_sample" in k:
        overrides["do_sample"] = k["do_sample"]
    if "temperature" in k:
        overrides["do_sample"] = k["temperature"] > 0 if "do_sample" not in k else k["do_sample"]
        if k["temperature"] > 0:
            overrides["temperature"] = k["temperature"]
    elif "do_sample" not in k and any(n in k for n in ("top_p", "top_k", "min_p")):
        overrides["do_sample"] = True
    opts = GenerationOptions.from_settings(settings, **overrides)
    if opts.max_pixels < opts.min_pixels:
        raise bad(f"max_pixels ({opts.max_pixels}) is below min_pixels ({opts.min_pixels})",
                  params.get("max_pixels", "max_pixels"))
    for name, neutral in ENGINE_KNOBS.items():
        if name not in k:
            continue
        if name in OPTION_FIELDS:
            setattr(opts, name, k[name])
        elif k[name] != neutral:
            raise bad(f"{params.get(name, name)}: this engine has no {name.replace('_', ' ')}; leave it out or "
                      f"send {neutral}", params.get(name, name))
    return opts
