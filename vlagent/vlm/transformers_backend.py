"""The local engine: Qwen2-VL / Qwen2.5-VL / Qwen3-VL through transformers + qwen-vl-utils.

Loads lazily on first use and unloads after ``vlm.idle_unload_s`` idle seconds. Describes
images in left-padded batches, streams chat answers token by token, stops at the next token
when cancelled, and on CUDA out-of-memory retries with a smaller batch, then fewer pixels,
before raising :class:`OutOfMemory`. Every :class:`Generation` carries its latency split
and token counts in ``timings``.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

import torch
from PIL import Image
from transformers import TextStreamer

from vlagent.vlm.base import (
    CancelToken,
    ChatMessage,
    Generation,
    GenerationOptions,
    OutOfMemory,
    TokenCallback,
    VlmError,
)
from vlagent.vlm.devices import Placement, plan
from vlagent.vlm.loading import Loaded, load, release_memory, resolve_model_dir
from vlagent.vlm.preprocess import build_inputs

if TYPE_CHECKING:
    from vlagent.settings import Settings

log = logging.getLogger(__name__)

# Settings read at load time: changing one makes the next call reload the model.
LOAD_KEYS = ("vlm.model", "vlm.dtype", "vlm.attn_implementation", "vlm.device", "vlm.cpu_quantize")
# vlm.threads = 0: all cores but one. The desktop stays responsive, and on a busy machine it is
# faster too: every layer waits for its slowest thread, and a descheduled one stalls them all.
DEFAULT_THREADS = max(1, torch.get_num_threads() - 1)  # torch's own default: the physical cores
PIXEL_RETRIES = 2  # after batch 1 still runs out of memory: halve the pixels this many times


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    return isinstance(exc, RuntimeError) and ("out of memory" in str(exc) or "can't allocate memory" in str(exc))


def image_part(image: Image.Image, opts: GenerationOptions) -> dict:
    """A qwen-vl-utils image entry carrying the pixel budget (or an explicit size)."""
    part: dict = {"type": "image", "image": image}
    h, w = opts.resized_height, opts.resized_width
    if h or w:
        # One side given: keep the aspect ratio. qwen-vl-utils rounds both to the patch grid.
        part["resized_height"] = h or max(1, round(w * image.height / image.width))
        part["resized_width"] = w or max(1, round(h * image.width / image.height))
    else:
        part["min_pixels"] = opts.min_pixels
        part["max_pixels"] = max(opts.max_pixels, opts.min_pixels)
    return part


def conversation(messages: list[ChatMessage], opts: GenerationOptions) -> list[dict]:
    return [{"role": m.role, "content": [image_part(img, opts) for img in m.images]
             + [{"type": "text", "text": m.text}]} for m in messages]


def fewer_pixels(opts: GenerationOptions) -> GenerationOptions:
    smaller = GenerationOptions(**opts.as_dict())
    smaller.max_pixels = max(opts.min_pixels, opts.max_pixels // 2)
    if opts.resized_height or opts.resized_width:
        smaller.resized_height = int(opts.resized_height / 1.4142)
        smaller.resized_width = int(opts.resized_width / 1.4142)
    return smaller


class _Clock:
    """A stopping criterion that times the first and last generated token and stops every
    row at the next token once ``cancel`` is set."""

    def __init__(self, cancel: CancelToken | None):
        self.cancel = cancel
        self.first: float | None = None
        self.last: float | None = None
        self.steps = 0
        self.cancelled = False

    def __call__(self, input_ids, scores, **kwargs):
        self.last = time.perf_counter()
        if self.first is None:
            self.first = self.last
        self.steps += 1
        self.cancelled = self.cancelled or bool(self.cancel and self.cancel.cancelled)
        return torch.full((input_ids.shape[0],), self.cancelled, dtype=torch.bool, device=input_ids.device)


class TransformersEngine:
    name = "transformers"

    def __init__(self, settings: Settings, home=None):
        self.settings = settings
        self.home = home
        self._loaded: Loaded | None = None
        self.placement: Placement | None = None
        self._lock = threading.RLock()
        self._stale = False
        self._last_used = time.monotonic()
        self._timer: threading.Timer | None = None
        self._vision_span = [0.0, 0.0]
        settings.subscribe(self._on_setting)

    # --- lifecycle -------------------------------------------------------------------
    @property
    def model_id(self) -> str:
        return self.settings.view.vlm.model

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def load(self) -> None:
        self._ensure_loaded()

    def _ensure_loaded(self) -> float:
        """Load if needed; returns the milliseconds spent loading (0 when already loaded)."""
        with self._lock:
            threads = self.settings.view.vlm.threads or DEFAULT_THREADS  # applies live
            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)
            if self._stale:
                self.unload()
            if self._loaded is not None:
                return 0.0
            t0 = time.perf_counter()
            path = resolve_model_dir(self.model_id, home=self.home, settings=self.settings)
            try:
                placement = plan(self.settings)
            except ValueError as e:
                raise VlmError(str(e)) from None
            self._loaded = load(path, placement)
            self.placement = placement
            self._stale = False
            visual = self._loaded.model.model.visual
            visual.register_forward_pre_hook(lambda *a: self._mark_vision(0))
            visual.register_forward_hook(lambda *a: self._mark_vision(1))
            ms = (time.perf_counter() - t0) * 1000
            log.info("loaded %s (%s) on %s in %.0f ms", self.model_id, placement.dtype, placement.device, ms)
            return ms

    def _mark_vision(self, end: int) -> None:
        if end and self.placement and self.placement.on_cuda:
            torch.cuda.synchronize()
        self._vision_span[end] = time.perf_counter()

    def unload(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._loaded is None:
                return
            self._loaded = None
            release_memory()
            log.info("unloaded %s", self.model_id)

    def _on_setting(self, key: str, value) -> None:
        if key in LOAD_KEYS and self._loaded is not None:
            self._stale = True  # reload on the next call; never unload under a running generation

    @contextmanager
    def _use(self):
        with self._lock:
            try:
                yield
            finally:
                self._last_used = time.monotonic()
                self._schedule_idle_unload()

    def _schedule_idle_unload(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        idle_s = self.settings.view.vlm.idle_unload_s
        if idle_s > 0 and self._loaded is not None:
            self._timer = threading.Timer(idle_s, self._idle_check)
            self._timer.daemon = True
            self._timer.start()

    def _idle_check(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # a generation is running; it reschedules when it ends
        try:
            idle_s = self.settings.view.vlm.idle_unload_s
            if idle_s > 0 and time.monotonic() - self._last_used >= idle_s * 0.99:
                log.info("idle for %.0f s", idle_s)
                self.unload()
        finally:
            self._lock.release()

    # --- the interface ---------------------------------------------------------------
    def describe(self, images: list[Image.Image], prompt: str, options: GenerationOptions | None = None,
                 cancel: CancelToken | None = None) -> list[Generation]:
        opts = options or GenerationOptions.from_settings(self.settings)
        with self._use():
            load_ms = self._ensure_loaded()
            batch = max(1, self.settings.view.vlm.batch_size)
            out: list[Generation] = []
            pixel_retries = 0
            while len(out) < len(images):
                if cancel and cancel.cancelled:
                    out += [self._cancelled(prompt, opts) for _ in images[len(out):]]
                    break
                chunk = images[len(out):len(out) + batch]
                convs = [conversation([ChatMessage("user", prompt, [img])], opts) for img in chunk]
                try:
                    gens = self._generate_batch(convs, opts, cancel)
                except Exception as e:
                    if not is_out_of_memory(e):
                        raise
                    release_memory()
                    if len(chunk) > 1:
                        batch = (len(chunk) + 1) // 2
                        log.warning("out of memory: retrying with batch size %d", batch)
                    else:
                        opts = self._fewer_pixels_after_oom(opts, pixel_retries)
                        pixel_retries += 1
                    continue
                for g in gens:
                    g.prompt = prompt
                    g.timings["oom_retries"] = pixel_retries
                out += gens
            if out:
                out[0].timings["load_ms"] = round(load_ms, 1)
            return out

    def chat(self, messages: list[ChatMessage], options: GenerationOptions | None = None,
             on_token: TokenCallback | None = None, cancel: CancelToken | None = None) -> Generation:
        if not messages or messages[-1].role != "user":
            raise VlmError("a chat must end with a user message")
        opts = options or GenerationOptions.from_settings(self.settings)
        with self._use():
            load_ms = self._ensure_loaded()
            if cancel and cancel.cancelled:
                return self._cancelled(messages[-1].text, opts)
            pixel_retries = 0
            while True:
                try:
                    gen = self._generate_batch([conversation(messages, opts)], opts, cancel, on_token)[0]
                    break
                except Exception as e:
                    if not is_out_of_memory(e):
                        raise
                    release_memory()
                    opts = self._fewer_pixels_after_oom(opts, pixel_retries)
                    pixel_retries += 1
            gen.prompt = messages[-1].text
            gen.timings["oom_retries"] = pixel_retries
            gen.timings["load_ms"] = round(load_ms, 1)
            gen.timings["total_ms"] = round(gen.timings["total_ms"] + load_ms, 1)
            return gen

    def _fewer_pixels_after_oom(self, opts: GenerationOptions, retries: int) -> GenerationOptions:
        """What to retry one image with after it ran out of memory: fewer pixels, until
        :data:`PIXEL_RETRIES` retries are spent; then :class:`OutOfMemory`."""
        if retries >= PIXEL_RETRIES or opts.max_pixels <= opts.min_pixels:
            device = self.placement.device if self.placement else "?"
            raise OutOfMemory(f"out of memory running {self.model_id} on {device} even with batch size 1 and "
                              f"max_pixels {opts.max_pixels}; lower vlm.max_pixels or use a smaller model") from None
        smaller = fewer_pixels(opts)
        log.warning("out of memory: retrying with max_pixels %d", smaller.max_pixels)
        return smaller

    def _cancelled(self, prompt: str, opts: GenerationOptions) -> Generation:
        return Generation(text="", engine=self.name, model=self.model_id, prompt=prompt, params=opts.as_dict(),
                          timings={}, finish_reason="cancelled")

    # --- one batch through the processor and generate() -----------------------------
    def _generate_batch(self, conversations: list[list[dict]], opts: GenerationOptions,
                        cancel: CancelToken | None = None, on_token: TokenCallback | None = None) -> list[Generation]:
        """Generate one answer per conversation (a batch, left-padded)."""
        loaded, placement = self._loaded, self.placement
        assert loaded is not None and placement is not None  # _ensure_loaded() ran, under the lock
        processor, model = loaded.processor, loaded.model
        t0 = time.perf_counter()
        prepared = build_inputs(processor, conversations, loaded.vision, loaded.pixels)
        inputs = {k: v.to(model.device) for k, v in prepared.inputs.items()}
        t1 = time.perf_counter()
        t_resized = t0 + prepared.resize_ms / 1000

        clock = _Clock(cancel)
        kwargs = self.generate_kwargs(opts)
        streamer = CallbackStreamer(processor.tokenizer, on_token) if on_token else None
        if placement.on_cuda:
            torch.cuda.reset_peak_memory_stats(placement.device)
        self._vision_span = [0.0, 0.0]
        with torch.inference_mode():
            output = model.generate(**inputs, **kwargs, stopping_criteria=[clock], streamer=streamer)
        if placement.on_cuda:
            torch.cuda.synchronize()
        t2 = time.perf_counter()

        prompt_len = inputs["input_ids"].shape[1]
        new_ids = output[:, prompt_len:]
        texts_out = processor.batch_decode(new_ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        t3 = time.perf_counter()
        sizes, k = [], 0
        for c in conversations:  # the images of each row, in the order qwen-vl-utils returned them
            n_img = sum(1 for m in c for part in m["content"] if part["type"] == "image")
            sizes.append([f"{w}x{h}" for w, h in prepared.sizes[k:k + n_img]])
            k += n_img
        marks = (t0, t_resized, t1, t2, t3)
        return [self._generation(i, texts_out[i], new_ids[i], inputs, sizes[i], opts, clock, marks)
                for i in range(len(conversations))]

    def generate_kwargs(self, opts: GenerationOptions) -> dict:
        loaded = self._loaded
        assert loaded is not None  # called once the model is loaded
        tok = loaded.processor.tokenizer
        kwargs = {
            "max_new_tokens": opts.max_new_tokens,
            "do_sample": opts.do_sample,
            "repetition_penalty": opts.repetition_penalty,
            "pad_token_id": tok.pad_token_id,
        }
        if opts.min_new_tokens:
            kwargs["min_new_tokens"] = opts.min_new_tokens
        if opts.do_sample:
            kwargs.update(temperature=opts.temperature, top_k=opts.top_k, top_p=opts.top_p)
        else:  # greedy: neutralise sampling defaults a checkpoint's generation_config may carry
            kwargs.update(temperature=None, top_k=None, top_p=None)
        return kwargs

    def _generation(self, i, text, new_ids, inputs, sizes, opts, clock: _Clock, marks) -> Generation:
        t0, t_resized, t1, t2, t3 = marks
        loaded, placement = self._loaded, self.placement
        assert loaded is not None and placement is not None  # called from _generate_batch()
        n = inputs["input_ids"].shape[0]
        stops = set(self._stop_ids())
        ids = new_ids.tolist()
        end = next((k for k, t in enumerate(ids) if t in stops), None)
        new_tokens = len(ids) if end is None else end + 1
        if clock.cancelled:
            finish = "cancelled"
        elif end is not None:
            finish = "stop"
        else:
            finish = "length"
        image_token = loaded.model.config.image_token_id
        first = clock.first or t2
        vision_ms = (self._vision_span[1] - self._vision_span[0]) * 1000 if self._vision_span[1] else 0.0
        decode_s = (clock.last or t2) - first
        timings = {
            "preprocess_ms": round((t1 - t0) * 1000, 1),  # = resize + processor (vlm/preprocess.py)
            "resize_ms": round((t_resized - t0) * 1000, 1),
            "processor_ms": round((t1 - t_resized) * 1000, 1),
            "vision_ms": round(vision_ms, 1),
            "prefill_ms": round((first - t1) * 1000, 1),
            "decode_ms": round(decode_s * 1000, 1),
            "generate_ms": round((t2 - t1) * 1000, 1),
            "postprocess_ms": round((t3 - t2) * 1000, 1),
            "total_ms": round((t3 - t0) * 1000 / n, 1),  # this image's share of its batch
            "batch_size": n,
            "batch_ms": round((t3 - t0) * 1000, 1),
            "input_tokens": int(inputs["attention_mask"][i].sum()),
            "visual_tokens": int((inputs["input_ids"][i] == image_token).sum()),
            "new_tokens": new_tokens,
            "tokens_per_s": round(new_tokens / (t2 - t1), 2) if t2 > t1 else None,
            "decode_tokens_per_s": round((clock.steps - 1) / decode_s, 2) if decode_s > 0 else None,
            "peak_memory_mb": peak_memory_mb(placement),
            "image_sizes": sizes,  # as fed to the model, after resizing
        }
        params = dict(opts.as_dict(), device=placement.device, dtype=placement.dtype,
                      attn_implementation=placement.attn_implementation, int8=placement.quantize)
        return Generation(text=text, engine=self.name, model=self.model_id, params=params, timings=timings,
                          finish_reason=finish)

    def _stop_ids(self) -> list[int]:
        loaded = self._loaded
        assert loaded is not None  # called once the model is loaded
        cfg = loaded.model.generation_config
        eos = cfg.eos_token_id
        ids = list(eos) if isinstance(eos, (list, tuple)) else ([eos] if eos is not None else [])
        tok = loaded.processor.tokenizer
        return ids + [t for t in (tok.eos_token_id, tok.pad_token_id) if t is not None]


def peak_memory_mb(placement: Placement | None) -> float | None:
    """Peak GPU memory allocated during the last generation, or this process's peak RSS."""
    if placement is not None and placement.on_cuda:
        return round(torch.cuda.max_memory_allocated(placement.device) / 2**20, 1)
    try:
        import resource
        import sys

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return round(rss / (2**20 if sys.platform == "darwin" else 2**10), 1)
    except (ImportError, OSError):
        return None


class CallbackStreamer(TextStreamer):
    """Hands each finished piece of text to a callback, in the thread running generate()."""

    def __init__(self, tokenizer, callback: TokenCallback):
        super().__init__(tokenizer, skip_prompt=True, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        self.callback = callback

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        if text:
            self.callback(text)
