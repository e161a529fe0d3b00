"""The local engine: Qwen2-VL / Qwen2.5-VL / Qwen3-VL through transformers + qwen-vl-utils.

Loads lazily on first use and unloads after ``vlm.idle_unload_s`` idle seconds. Describes
images in left-padded batches, streams chat answers token by token, stops at the next token
when cancelled (or at the next layer while a long prompt is still being read), and on CUDA
out-of-memory retries with a smaller batch, then fewer pixels, before raising
:class:`OutOfMemory`. Every :class:`Generation` carries its latency split and token counts in
``timings``.

Interactive work (chat, :meth:`~TransformersEngine.chat_many`, :meth:`~TransformersEngine.prefill`)
runs on every core (``vlm.interactive_threads``), background descriptions on ``vlm.threads``.
A chat reuses the longest cached prefix of its prompt and caches its prompt + answer for the
next turn (:mod:`vlagent.vlm.prefix_cache`); ``prefill`` reads an image before its question.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import TYPE_CHECKING

import torch
from PIL import Image
from transformers import DynamicCache, GenerationMixin, TextStreamer

from vlagent.common import trim_heap
from vlagent.vlm.base import (
    Cancelled,
    CancelToken,
    ChatMessage,
    ChatRequest,
    Generation,
    GenerationOptions,
    OutOfMemory,
    TokenCallback,
    VlmError,
)
from vlagent.vlm.devices import Placement, plan
from vlagent.vlm.loading import Loaded, load, release_memory, resolve_model_dir
from vlagent.vlm.prefix_cache import PrefixCache, PrefixHandle, PromptKey, image_digests, image_spans
from vlagent.vlm.preprocess import build_inputs

if TYPE_CHECKING:
    from vlagent.settings import Settings

log = logging.getLogger(__name__)

# Settings read at load time: changing one makes the next call reload the model.
LOAD_KEYS = ("vlm.model", "vlm.dtype", "vlm.attn_implementation", "vlm.device", "vlm.cpu_quantize", "vlm.int8_engine")
# vlm.threads = 0: all cores but one. The desktop stays responsive, and on a busy machine it is
# faster too: every layer waits for its slowest thread, and a descheduled one stalls them all.
ALL_THREADS = torch.get_num_threads()  # torch's own default: the physical cores
DEFAULT_THREADS = max(1, ALL_THREADS - 1)
PIXEL_RETRIES = 2  # after batch 1 still runs out of memory: halve the pixels this many times
# transformers renamed generate()'s past_key_values to cache (the old name is deprecated)
CACHE_KW = "cache" if "cache" in inspect.signature(GenerationMixin.prepare_inputs_for_generation).parameters \
    else "past_key_values"
QUESTION_MARK = "\u2063vlagent-question\u2063"  # where the question goes in a prefill's prompt


class _Interrupted(Exception):
    """Raised inside the model's forward pass (from a layer hook) when the cancel token is set."""


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

    def __init__(self, cancel: CancelToken | None, on_first: Callable[[], None] | None = None):
        self.cancel = cancel
        self.on_first = on_first
        self.first: float | None = None
        self.last: float | None = None
        self.steps = 0
        self.cancelled = False

    def __call__(self, input_ids, scores, **kwargs):
        self.last = time.perf_counter()
        if self.first is None:
            self.first = self.last
            if self.on_first is not None:
                self.on_first()
        self.steps += 1
        self.cancelled = self.cancelled or bool(self.cancel and self.cancel.cancelled)
        return torch.full((input_ids.shape[0],), self.cancelled, dtype=torch.bool, device=input_ids.device)


class _RowClock(_Clock):
    """Per-row stopping for :meth:`TransformersEngine.chat_many`: a row ends at a stop token,
    at its own ``max_new_tokens`` or when its own cancel token is set; the others go on."""

    def __init__(self, cancels: list[CancelToken | None], limits: list[int], prompt_len: int, stops: list[int],
                 streamer: RowStreamer):
        super().__init__(None)
        self.cancels, self.limits, self.prompt_len = cancels, limits, prompt_len
        self.stops = set(stops)
        self.streamer = streamer
        self.done = [False] * len(limits)
        self.lengths = [0] * len(limits)  # new tokens of each row, its last one included
        self.row_cancelled = [False] * len(limits)

    def __call__(self, input_ids, scores, **kwargs):
        super().__call__(input_ids, scores)
        made = input_ids.shape[1] - self.prompt_len
        last = input_ids[:, -1].tolist()
        for i, limit in enumerate(self.limits):
            if self.done[i]:
                continue
            self.lengths[i] = made
            self.streamer.feed(i, last[i])
            cancel = self.cancels[i]
            if last[i] in self.stops or made >= limit or (cancel is not None and cancel.cancelled):
                self.row_cancelled[i] = last[i] not in self.stops and made < limit
                self.done[i] = True
                self.streamer.finish_row(i)
        return torch.tensor(self.done, dtype=torch.bool, device=input_ids.device)


def cache_tensors(cache) -> list[tuple[torch.Tensor, torch.Tensor]] | None:
    """Each layer's (keys, values) of a one-row, full-attention dynamic cache; None for anything else."""
    out = []
    for layer in getattr(cache, "layers", None) or []:
        keys, values = getattr(layer, "keys", None), getattr(layer, "values", None)
        if getattr(layer, "is_sliding", False) or not isinstance(keys, torch.Tensor) \
                or not isinstance(values, torch.Tensor) or keys.dim() != 4 or keys.shape[0] != 1:
            return None
        out.append((keys, values))
    if not out or out[0][0].shape[-2] == 0 or any(k.shape[-2] != out[0][0].shape[-2] for k, _ in out):
        return None
    return out


def sampling_key(opts: GenerationOptions) -> tuple:
    """Requests with equal keys can share one ``generate`` call (their max_new_tokens may differ).
    A seeded sampled request runs alone: its random draws must not depend on its neighbours."""
    penalties = (opts.repetition_penalty, opts.presence_penalty, opts.frequency_penalty, opts.min_new_tokens)
    if opts.do_sample:
        alone = (id(opts),) if opts.seed is not None else ()
        return (True, opts.temperature, opts.top_k, opts.top_p, opts.min_p, *penalties, *alone)
    return (False, *penalties)


class AnswerPenalties:
    """OpenAI's presence and frequency penalties, as vLLM applies them: over the tokens of the
    answer so far (not the prompt), ``presence`` once for every token that appeared and
    ``frequency`` for each appearance, subtracted from the logits before sampling or argmax."""

    def __init__(self, prompt_len: int, presence: float, frequency: float):
        self.prompt_len, self.presence, self.frequency = prompt_len, presence, frequency

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        answer = input_ids[:, self.prompt_len:]
        if answer.shape[1] == 0:
            return scores
        counts = torch.zeros(scores.shape, dtype=scores.dtype, device=scores.device)
        counts.scatter_add_(1, answer, torch.ones(answer.shape, dtype=scores.dtype, device=scores.device))
        return scores - self.frequency * counts - self.presence * (counts > 0).to(scores.dtype)


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
        self._prefix = PrefixCache()
        self._interrupt: CancelToken | None = None  # checked before every layer while reading a prompt
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
            for layer in [*getattr(visual, "blocks", ()), *self._loaded.model.model.language_model.layers]:
                layer.register_forward_pre_hook(self._check_interrupt)
            ms = (time.perf_counter() - t0) * 1000
            log.info("loaded %s (%s) on %s in %.0f ms", self.model_id, placement.dtype, placement.device, ms)
            return ms

    def _mark_vision(self, end: int) -> None:
        if end and self.placement and self.placement.on_cuda:
            torch.cuda.synchronize()
        elif end and self.placement and self.placement.on_mps:
            torch.mps.synchronize()
        self._vision_span[end] = time.perf_counter()

    def _check_interrupt(self, *args) -> None:
        cancel = self._interrupt
        if cancel is not None and cancel.cancelled:
            raise _Interrupted

    def unload(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._loaded is None:
                return
            self._prefix.clear()
            self._loaded = None
            release_memory()
            log.info("unloaded %s", self.model_id)

    def _on_setting(self, key: str, value) -> None:
        if key in LOAD_KEYS and self._loaded is not None:
            self._stale = True  # reload on the next call; never unload under a running generation
        elif key == "vlm.prefix_cache_mb":
            self._prefix.trim(self._prefix_budget())

    @contextmanager
    def _use(self):
        with self._lock:
            try:
                yield
            finally:
                self._last_used = time.monotonic()
                self._schedule_idle_unload()
                if self.placement is not None and self.placement.device == "cpu":
                    trim_heap()  # what the call freed (kept for reuse during it: common.reuse_freed_memory)

    @contextmanager
    def _interactive_threads(self):
        """Someone is waiting for this answer: every core (``vlm.interactive_threads``) while it
        runs, then back to the background count."""
        before = torch.get_num_threads()
        want = self.settings.view.vlm.interactive_threads or ALL_THREADS
        if want != before:
            torch.set_num_threads(want)
        try:
            yield
        finally:
            if torch.get_num_threads() != before:
                torch.set_num_threads(before)

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
            with self._interactive_threads():
                gen = self._chat_locked(messages, opts, on_token, cancel)
            gen.timings["load_ms"] = round(load_ms, 1)
            if "total_ms" in gen.timings:
                gen.timings["total_ms"] = round(gen.timings["total_ms"] + load_ms, 1)
            return gen

    def _chat_locked(self, messages: list[ChatMessage], opts: GenerationOptions, on_token: TokenCallback | None,
                     cancel: CancelToken | None) -> Generation:
        """One chat, under the lock with the model loaded; backs off on out of memory."""
        if cancel and cancel.cancelled:
            return self._cancelled(messages[-1].text, opts)
        pixel_retries = 0
        while True:
            try:
                gen = self._generate_batch([conversation(messages, opts)], opts, cancel, on_token, prefix=True)[0]
                break
            except Exception as e:
                if not is_out_of_memory(e):
                    raise
                release_memory()
                opts = self._fewer_pixels_after_oom(opts, pixel_retries)
                pixel_retries += 1
        gen.prompt = messages[-1].text
        gen.timings["oom_retries"] = pixel_retries
        return gen

    def chat_many(self, requests: list[ChatRequest]) -> list[Generation | VlmError]:
        """Answer several conversations together: requests whose sampling options agree go
        through ``generate`` as one left-padded batch (up to ``vlm.batch_size`` rows), each row
        streaming to its own ``on_token`` and stopping on its own ``max_new_tokens`` or cancel
        token while the others go on. One result per request, in order: a Generation, or the
        VlmError that request met. Out of memory splits a batch in halves, then a lone
        request backs off as :meth:`chat` does."""
        out: list[Generation | VlmError | None] = [None] * len(requests)
        todo = []
        for i, r in enumerate(requests):
            if not r.messages or r.messages[-1].role != "user":
                out[i] = VlmError("a chat must end with a user message")
            else:
                todo.append(i)
        if todo:
            with self._use():
                try:
                    load_ms = self._ensure_loaded()
                except VlmError as e:
                    load_ms = 0.0
                    for i in todo:
                        out[i] = e
                    todo = []
                groups: dict[tuple, list[int]] = {}
                for i in todo:
                    groups.setdefault(sampling_key(requests[i].options), []).append(i)
                batch = max(1, self.settings.view.vlm.batch_size)
                with self._interactive_threads():
                    for idx in groups.values():
                        for k in range(0, len(idx), batch):
                            chunk = idx[k:k + batch]
                            for i, result in zip(chunk, self._chat_rows([requests[i] for i in chunk])):
                                out[i] = result
                first = next((g for g in out if isinstance(g, Generation)), None)
                if first is not None:
                    first.timings["load_ms"] = round(load_ms, 1)
        return [r if r is not None else VlmError("no answer") for r in out]

    def _chat_rows(self, requests: list[ChatRequest]) -> list[Generation | VlmError]:
        """One batch of compatible requests (under the lock, model loaded)."""
        out: list[Generation | VlmError | None] = [None] * len(requests)
        live = []
        for i, r in enumerate(requests):
            if r.cancel and r.cancel.cancelled:
                out[i] = self._cancelled(r.messages[-1].text, r.options)
            else:
                live.append(i)
        if len(live) == 1:
            r = requests[live[0]]
            try:
                out[live[0]] = self._chat_locked(r.messages, r.options, r.on_token, r.cancel)
            except VlmError as e:
                out[live[0]] = e
        elif live:
            rows = [requests[i] for i in live]
            try:
                gens: list[Generation | VlmError] = list(self._generate_batch(
                    [conversation(r.messages, r.options) for r in rows], rows[0].options, rows=rows))
                for g, r in zip(gens, rows):
                    assert isinstance(g, Generation)
                    g.prompt = r.messages[-1].text
                    g.timings["oom_retries"] = 0
            except Exception as e:
                if isinstance(e, VlmError):
                    gens = [e] * len(rows)
                elif not is_out_of_memory(e):
                    raise
                else:
                    release_memory()
                    half = (len(rows) + 1) // 2
                    log.warning("out of memory: retrying with batch size %d", half)
                    gens = self._chat_rows(rows[:half]) + self._chat_rows(rows[half:])
            for i, g in zip(live, gens):
                out[i] = g
        return [r if r is not None else VlmError("no answer") for r in out]

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
                          timings={"cached_tokens": 0}, finish_reason="cancelled")

    # --- one batch through the processor and generate() -----------------------------
    def _generate_batch(self, conversations: list[list[dict]], opts: GenerationOptions,
                        cancel: CancelToken | None = None, on_token: TokenCallback | None = None, *,
                        rows: list[ChatRequest] | None = None, prefix: bool = False) -> list[Generation]:
        """Generate one answer per conversation (a batch, left-padded). With ``rows`` (one
        request per conversation, same sampling options) each row has its own stream, cancel
        token and ``max_new_tokens``. With ``prefix`` (one conversation), the longest cached
        prefix of its prompt is reused and the prompt + answer is cached for the next turn."""
        loaded, placement = self._loaded, self.placement
        assert loaded is not None and placement is not None  # _ensure_loaded() ran, under the lock
        processor, model = loaded.processor, loaded.model
        t0 = time.perf_counter()
        prepared = build_inputs(processor, conversations, loaded.vision, loaded.pixels)
        inputs = {k: v.to(model.device) for k, v in prepared.inputs.items()}
        t_resized = t0 + prepared.resize_ms / 1000

        cached, key, cache = 0, None, None
        gen_inputs = inputs
        if prefix and len(conversations) == 1 and self._prefix_usable():
            key = self._prompt_key(inputs)
            entry, cached = self._prefix.lookup(key, max_tokens=len(key) - 1)
            cache = DynamicCache()
            if entry is not None:
                gen_inputs = self._continuation(inputs, key, cached)
                cache = DynamicCache(PrefixCache.copy_kv(entry, cached))
                self._prefix.stats["hits"] += 1
                self._prefix.stats["cached_tokens"] += cached
            else:
                self._prefix.stats["misses"] += 1
            gen_inputs = dict(gen_inputs, **{CACHE_KW: cache})
        t1 = time.perf_counter()

        kwargs = self.generate_kwargs(opts, prompt_len=inputs["input_ids"].shape[1])
        clock: _Clock
        streamer: CallbackStreamer | None = None
        if rows is None:
            clock = _Clock(cancel, on_first=self._prompt_read)
            streamer = CallbackStreamer(processor.tokenizer, on_token) if on_token else None
        else:
            limits = [r.options.max_new_tokens for r in rows]
            kwargs["max_new_tokens"] = max(limits)
            clock = _RowClock([r.cancel for r in rows], limits, inputs["input_ids"].shape[1], self._stop_ids(),
                              RowStreamer(processor.tokenizer, [r.on_token for r in rows]))
        if placement.on_cuda:
            torch.cuda.reset_peak_memory_stats(placement.device)
        self._vision_span = [0.0, 0.0]
        self._interrupt = cancel if rows is None else None  # a long prompt read stops at the next layer
        try:
            with torch.inference_mode():
                output = model.generate(**gen_inputs, **kwargs, stopping_criteria=[clock], streamer=streamer)
        except _Interrupted:
            del gen_inputs, cache
            release_memory()
            return [self._cancelled("", opts) for _ in conversations]
        finally:
            self._interrupt = None
        if isinstance(clock, _RowClock):
            clock.streamer.end()  # rows generate() stopped without the clock seeing their end
        if placement.on_cuda:
            torch.cuda.synchronize()
        t2 = time.perf_counter()

        prompt_len = inputs["input_ids"].shape[1]
        new_ids = output[:, prompt_len:]
        texts_out = processor.batch_decode(new_ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        if key is not None and cache is not None:
            self._keep(key, output[0], cache)
        t3 = time.perf_counter()
        sizes, k = [], 0
        for c in conversations:  # the images of each row, in the order qwen-vl-utils returned them
            n_img = sum(1 for m in c for part in m["content"] if part["type"] == "image")
            sizes.append([f"{w}x{h}" for w, h in prepared.sizes[k:k + n_img]])
            k += n_img
        marks = (t0, t_resized, t1, t2, t3)
        if isinstance(clock, _RowClock):
            assert rows is not None
            texts_out = processor.batch_decode([new_ids[i, :n] for i, n in enumerate(clock.lengths)],
                                               skip_special_tokens=True, clean_up_tokenization_spaces=False)
            return [self._generation(i, texts_out[i], new_ids[i, :clock.lengths[i]], inputs, sizes[i], r.options,
                                     clock, marks, cancelled=clock.row_cancelled[i])
                    for i, r in enumerate(rows)]
        gens = [self._generation(i, texts_out[i], new_ids[i], inputs, sizes[i], opts, clock, marks)
                for i in range(len(conversations))]
        gens[0].timings["cached_tokens"] = cached
        return gens

    def _prompt_read(self) -> None:
        self._interrupt = None  # the first token is out: from now on a cancel stops at the next token

    # --- the prefix cache ----------------------------------------------------------------
    def _prefix_budget(self) -> int:
        return max(0, self.settings.view.vlm.prefix_cache_mb) * 2**20

    def _prefix_supported(self) -> bool:
        """Full-attention models (no sliding-window layers) whose 3-D rope positions we can compute."""
        loaded = self._loaded
        if loaded is None or not hasattr(loaded.model, "_prepare_position_ids_for_generation"):
            return False
        return not getattr(loaded.model.config.get_text_config(), "use_sliding_window", False)

    def _prefix_usable(self) -> bool:
        """Whether a prompt is matched against (and stored in) the prefix cache: when supported,
        with a budget or a pinned prefill."""
        return self._prefix_supported() and (self._prefix_budget() > 0 or len(self._prefix) > 0)

    def _prompt_key(self, inputs: dict) -> PromptKey:
        loaded = self._loaded
        assert loaded is not None
        ids = inputs["input_ids"][0].to("cpu")
        return PromptKey(ids, tuple(image_digests(inputs.get("pixel_values"), inputs.get("image_grid_thw"))),
                         tuple(image_spans(ids, loaded.vision.image_token_id)))

    def _continuation(self, inputs: dict, key: PromptKey, cached: int) -> dict:
        """generate()/forward inputs that go on from ``cached`` tokens already in the cache: the
        3-D rope positions of the whole prompt (as generate() computes them when it starts from
        nothing), and the pixels of only the images after the cached part."""
        loaded = self._loaded
        assert loaded is not None
        model = loaded.model
        names = ("input_ids", "attention_mask", "mm_token_type_ids", "image_grid_thw")
        positions = model._prepare_position_ids_for_generation(
            inputs["input_ids"], {k: inputs[k] for k in names if k in inputs})
        out = {k: inputs[k] for k in ("input_ids", "attention_mask", "mm_token_type_ids") if k in inputs}
        out["position_ids"] = positions
        grid = inputs.get("image_grid_thw")
        done = sum(1 for _, end in key.spans if end <= cached)
        if grid is not None and done < grid.shape[0]:
            rows = int(grid[:done].prod(-1).sum()) if done else 0
            out["pixel_values"] = inputs["pixel_values"][rows:]
            out["image_grid_thw"] = grid[done:]
        return out

    def _keep(self, key: PromptKey, sequence: torch.Tensor, cache) -> None:
        """Store a finished generation's keys and values (prompt + answer) for the next turn."""
        budget = self._prefix_budget()
        kv = cache_tensors(cache)
        if budget <= 0 or kv is None:
            return
        length = kv[0][0].shape[-2]
        ids = sequence[:length].to("cpu")
        self._prefix.put(PromptKey(ids, key.images, key.spans), kv, budget)

    def prefill(self, messages: list[ChatMessage], options: GenerationOptions | None = None,
                cancel: CancelToken | None = None) -> PrefixHandle:
        """Read a conversation up to where the question goes, now (every core), and keep the
        model's state for it: the images through the vision encoder, then the prefill of the
        prompt prefix. ``messages`` ends with the user message holding the image(s) and any
        text that goes before the question (e.g. ``""``); a later :meth:`chat` whose last
        message is that one with the question appended to its text reads only the question.

        Returns a :class:`PrefixHandle`; ``release()`` it when the image is closed without
        asking (the memory is freed then). Raises :class:`Cancelled` when ``cancel`` is set
        before or during the reading (it stops at the next layer; nothing is kept)."""
        if not messages or messages[-1].role != "user":
            raise VlmError("a prefill must end with the user message the question goes into")
        opts = options or GenerationOptions.from_settings(self.settings)
        if cancel and cancel.cancelled:
            raise Cancelled("the prefill was cancelled")
        with self._use():
            self._ensure_loaded()
            with self._interactive_threads():
                return self._prefill_locked(messages, opts, cancel)

    def _prefill_locked(self, messages: list[ChatMessage], opts: GenerationOptions,
                        cancel: CancelToken | None) -> PrefixHandle:
        loaded = self._loaded
        assert loaded is not None
        if not self._prefix_supported():
            raise VlmError(f"{self.model_id} cannot keep a prompt prefix (sliding-window attention)")
        t0 = time.perf_counter()
        marked = [*messages[:-1], ChatMessage("user", messages[-1].text + QUESTION_MARK, messages[-1].images)]
        prepared = build_inputs(loaded.processor, [conversation(marked, opts)], loaded.vision, loaded.pixels,
                                cut_at=QUESTION_MARK)
        model = loaded.model
        inputs = {k: v.to(model.device) for k, v in prepared.inputs.items()}
        key = self._prompt_key(inputs)
        entry, cached = self._prefix.lookup(key)
        self._prefix.stats["prefills"] += 1
        if entry is not None and cached == len(key):  # read before (a prefill or an earlier turn)
            handle = self._prefix.pin(entry)
            if handle is not None:
                self._prefix.stats["prefill_hits"] += 1
                handle.tokens = len(key)
                handle.timings = {"prefill_ms": 0.0, "vision_ms": 0.0, "cached_tokens": cached,
                                  "tokens": len(key), "total_ms": round((time.perf_counter() - t0) * 1000, 1)}
                return handle
        if entry is not None and cached > 0:
            cache = DynamicCache(PrefixCache.copy_kv(entry, cached))
            forward = self._continuation(inputs, key, cached)
        else:
            cached, cache, forward = 0, DynamicCache(), dict(inputs)
        forward["input_ids"] = forward["input_ids"][:, cached:]
        if "mm_token_type_ids" in forward:
            forward["mm_token_type_ids"] = forward["mm_token_type_ids"][:, cached:]
        if "position_ids" in forward:
            forward["position_ids"] = forward["position_ids"][..., cached:]
        self._vision_span = [0.0, 0.0]
        t1 = time.perf_counter()
        self._interrupt = cancel
        try:
            with torch.inference_mode():
                model(**forward, **{CACHE_KW: cache}, use_cache=True, logits_to_keep=1)
        except _Interrupted:
            del forward, cache
            release_memory()
            self._prefix.stats["prefills_cancelled"] += 1
            raise Cancelled("the prefill was cancelled") from None
        finally:
            self._interrupt = None
        if self.placement is not None and self.placement.on_cuda:
            torch.cuda.synchronize()
        t2 = time.perf_counter()
        kv = cache_tensors(cache)
        if kv is None or kv[0][0].shape[-2] != len(key):
            raise VlmError(f"{self.model_id} cannot keep a prompt prefix (its cache is not a plain one)")
        _, handle = self._prefix.put(key, kv, self._prefix_budget(), pin=True)
        assert handle is not None
        vision_ms = (self._vision_span[1] - self._vision_span[0]) * 1000 if self._vision_span[1] else 0.0
        handle.timings = {"preprocess_ms": round((t1 - t0) * 1000, 1), "vision_ms": round(vision_ms, 1),
                          "prefill_ms": round((t2 - t1) * 1000, 1), "cached_tokens": cached, "tokens": len(key),
                          "visual_tokens": sum(e - s for s, e in key.spans),
                          "total_ms": round((t2 - t0) * 1000, 1)}
        return handle

    def save_prefixes(self, path, newest: int = 1) -> int:
        """Write the ``newest`` cached conversations to ``path`` (readable by this user only), for
        a later process with the same model: ``vlagent ask --continue``. Returns how many."""
        import os

        from vlagent.home import private_opener

        loaded, placement = self._loaded, self.placement
        if loaded is None or placement is None:
            return 0
        entries = self._prefix.newest(newest)
        if not entries:
            return 0
        payload = {"format": 1, "model": str(loaded.path), "dtype": placement.dtype, "int8": placement.quantize,
                   "entries": [{"ids": e.key.ids, "images": list(e.key.images),
                                "spans": [list(span) for span in e.key.spans],
                                "kv": [(k.to("cpu"), v.to("cpu")) for k, v in e.kv]} for e in entries]}
        tmp = f"{path}.tmp"
        with open(tmp, "wb", opener=private_opener) as f:
            torch.save(payload, f)
        os.replace(tmp, path)
        return len(entries)

    def load_prefixes(self, path) -> int:
        """Read what :meth:`save_prefixes` wrote, when it is for this model in this dtype (else
        nothing). Loads the model. Returns how many conversations were added to the cache."""
        with self._use():
            self._ensure_loaded()
            loaded, placement = self._loaded, self.placement
            assert loaded is not None and placement is not None
            try:
                payload = torch.load(path, weights_only=True, map_location="cpu")
            except (OSError, RuntimeError, ValueError, EOFError) as e:
                log.info("no saved model cache at %s: %s", path, e)
                return 0
            mine = {"format": 1, "model": str(loaded.path), "dtype": placement.dtype, "int8": placement.quantize}
            if not isinstance(payload, dict) or any(payload.get(k) != v for k, v in mine.items()):
                return 0
            device = loaded.model.device
            n = 0
            for saved in payload.get("entries", []):
                key = PromptKey(saved["ids"], tuple(saved["images"]), tuple(tuple(span) for span in saved["spans"]))
                kv = [(k.to(device), v.to(device)) for k, v in saved["kv"]]
                if self._prefix.put(key, kv, self._prefix_budget())[0] is not None:
                    n += 1
            self._prefix.stats["loaded"] += n
            return n

    def prefix_report(self) -> dict:
        """The prefix cache's counters (hits, misses, cached_tokens, stored, evicted, dropped,
        prefills …) and what it holds now (entries, bytes, pinned)."""
        return self._prefix.report()

    def generate_kwargs(self, opts: GenerationOptions, prompt_len: int | None = None) -> dict:
        """``generate()``'s arguments for ``opts``. With a seed and sampling, the random
        generator is seeded here, just before the one ``generate`` call it is for (the
        engine's lock keeps others from drawing in between)."""
        from transformers import LogitsProcessorList

        loaded = self._loaded
        assert loaded is not None  # called once the model is loaded
        tok = loaded.processor.tokenizer
        kwargs: dict = {
            "max_new_tokens": opts.max_new_tokens,
            "do_sample": opts.do_sample,
            "repetition_penalty": opts.repetition_penalty,
            "pad_token_id": tok.pad_token_id,
        }
        if opts.min_new_tokens:
            kwargs["min_new_tokens"] = opts.min_new_tokens
        if opts.do_sample:
            kwargs.update(temperature=opts.temperature, top_k=opts.top_k, top_p=opts.top_p)
            if opts.min_p > 0:
                kwargs["min_p"] = opts.min_p
            if opts.seed is not None:
                torch.manual_seed(opts.seed % 2**64)
        else:  # greedy: neutralise sampling defaults a checkpoint's generation_config may carry
            kwargs.update(temperature=None, top_k=None, top_p=None)
        if (opts.presence_penalty or opts.frequency_penalty) and prompt_len is not None:
            kwargs["logits_processor"] = LogitsProcessorList(
                [AnswerPenalties(prompt_len, opts.presence_penalty, opts.frequency_penalty)])
        return kwargs

    def _generation(self, i, text, new_ids, inputs, sizes, opts, clock: _Clock, marks,
                    cancelled: bool | None = None) -> Generation:
        t0, t_resized, t1, t2, t3 = marks
        loaded, placement = self._loaded, self.placement
        assert loaded is not None and placement is not None  # called from _generate_batch()
        n = inputs["input_ids"].shape[0]
        stops = set(self._stop_ids())
        ids = new_ids.tolist()
        end = next((k for k, t in enumerate(ids) if t in stops), None)
        new_tokens = len(ids) if end is None else end + 1
        if clock.cancelled if cancelled is None else cancelled:
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
            "cached_tokens": 0,  # prompt tokens served from the prefix cache (set by the caller)
            "tokens_per_s": round(new_tokens / (t2 - t1), 2) if t2 > t1 else None,
            "decode_tokens_per_s": round((clock.steps - 1) / decode_s, 2) if decode_s > 0 else None,
            "peak_memory_mb": peak_memory_mb(placement),
            "image_sizes": sizes,  # as fed to the model, after resizing
        }
        params = dict(opts.as_dict(), device=placement.device, dtype=placement.dtype,
                      attn_implementation=placement.attn_implementation, int8=placement.quantize,
                      **({"int8_engine": placement.int8_engine} if placement.int8_engine else {}))
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
    """Peak GPU memory allocated during the last generation, the Metal driver's allocation on
    Apple silicon, or this process's peak RSS."""
    if placement is not None and placement.on_cuda:
        return round(torch.cuda.max_memory_allocated(placement.device) / 2**20, 1)
    if placement is not None and placement.on_mps:
        return round(torch.mps.driver_allocated_memory() / 2**20, 1)
    try:
        import resource
        import sys

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return round(rss / (2**20 if sys.platform == "darwin" else 2**10), 1)
    except (ImportError, OSError):
        return None


class CallbackStreamer(TextStreamer):
    """Hands each finished piece of text to a callback, in the thread running generate()."""

    def __init__(self, tokenizer, callback: TokenCallback, skip_prompt: bool = True):
        super().__init__(tokenizer, skip_prompt=skip_prompt, skip_special_tokens=True,
                         clean_up_tokenization_spaces=False)
        self.callback = callback

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        if text:
            self.callback(text)


class RowStreamer:
    """Streams a batch row by row: :class:`_RowClock` feeds each row's new tokens to its own
    text streamer (and callback) until the row is done, so padding after it never is. (Not a
    generate() streamer: when generate() hands tokens to one, relative to the stopping
    criteria, differs between transformers versions and devices.)"""

    def __init__(self, tokenizer, callbacks: list[TokenCallback | None]):
        self.rows = [CallbackStreamer(tokenizer, cb, skip_prompt=False) if cb else None for cb in callbacks]
        self.done = [False] * len(callbacks)

    def feed(self, i: int, token: int) -> None:
        row = self.rows[i]
        if row is not None and not self.done[i]:
            row.put(torch.tensor([token]))

    def finish_row(self, i: int) -> None:
        if not self.done[i]:
            self.done[i] = True
            row = self.rows[i]
            if row is not None:
                row.end()

    def end(self) -> None:
        for i in range(len(self.rows)):
            self.finish_row(i)
