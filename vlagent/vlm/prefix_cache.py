"""The model's keys and values for prompts already read, kept for the next question.

Reading an image costs a CPU minute or more (the vision encoder, then the prefill of a
thousand visual tokens); a follow-up question about the same image, or the question that
arrives after :meth:`TransformersEngine.prefill` read the image while the user typed,
needs only its own tokens read. Entries are matched like vLLM's prefix caching: by the
longest common prefix of token ids, where every image inside the prefix must have the
same content (a digest of its ``pixel_values``) and the prefix never cuts an image in two.

The cache holds at most ``vlm.prefix_cache_mb`` (least recently used entries go first);
entries pinned by a :class:`PrefixHandle` (a prefill waiting for its question) are never evicted
and leave when their pin is released. A newer entry that extends an older one (the same
conversation one turn later) replaces it and takes over its pins. Everything goes when
the model unloads.

Only full-attention dynamic caches are kept (no sliding-window layers), one row each.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

import torch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PromptKey:
    """What identifies a prompt's content: its token ids, and each image's digest and token span."""

    ids: torch.Tensor  # 1-D, long, on the CPU
    images: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]  # [start, end) of each image's tokens, in order

    def __len__(self) -> int:
        return int(self.ids.shape[0])


@dataclass(eq=False)
class Entry:
    key: PromptKey
    kv: list[tuple[torch.Tensor, torch.Tensor]]  # per layer, [1, heads, len(key), head_dim]
    nbytes: int
    pins: list[PrefixHandle] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.key)


class PrefixHandle:
    """A pinned prefix (what :meth:`TransformersEngine.prefill` returns): keeps its entry, and
    whatever entry later extends it, in the cache until released. ``tokens``: the prefix
    length; ``timings``: what reading it cost (``prefill_ms``, ``vision_ms``, ``cached_tokens``)."""

    def __init__(self, cache: PrefixCache, entry: Entry):
        self._cache = cache
        self.entry: Entry | None = entry
        self.tokens = len(entry)
        self.timings: dict = {}

    @property
    def released(self) -> bool:
        return self.entry is None

    def release(self, *, drop: bool = True) -> bool:
        """Unpin; with ``drop``, the entry leaves the cache now (its memory is freed) unless
        another pin holds it. True when an entry was dropped."""
        return self._cache.release(self, drop=drop)


def image_spans(ids: torch.Tensor, image_token_id: int) -> list[tuple[int, int]]:
    """[start, end) of each run of image tokens in a 1-D id tensor."""
    is_image = (ids == image_token_id).to(torch.int8)
    if not bool(is_image.any()):
        return []
    edges = torch.diff(torch.cat([torch.zeros(1, dtype=torch.int8), is_image, torch.zeros(1, dtype=torch.int8)]))
    starts = (edges == 1).nonzero().flatten().tolist()
    ends = (edges == -1).nonzero().flatten().tolist()
    return list(zip(starts, ends))


def image_digests(pixel_values: torch.Tensor | None, grid_thw: torch.Tensor | None) -> list[str]:
    """A content digest per image: its rows of ``pixel_values`` (as fed to the model) and its grid."""
    if pixel_values is None or grid_thw is None:
        return []
    out, row = [], 0
    for t, h, w in grid_thw.tolist():
        n = t * h * w
        block = pixel_values[row:row + n].detach().to("cpu").contiguous()
        digest = hashlib.blake2b(block.view(torch.uint8).numpy().tobytes(), digest_size=16)
        digest.update(f"{t}x{h}x{w}:{block.dtype}".encode())
        out.append(digest.hexdigest())
        row += n
    return out


def common_prefix(a: torch.Tensor, b: torch.Tensor) -> int:
    m = min(int(a.shape[0]), int(b.shape[0]))
    if m == 0:
        return 0
    differ = (a[:m] != b[:m]).nonzero()
    return m if differ.numel() == 0 else int(differ[0, 0])


def usable_prefix(entry: PromptKey, request: PromptKey) -> int:
    """How many leading tokens of ``request`` the entry's keys and values serve: the common
    token prefix, cut before the first image whose content differs and never inside an image."""
    n = common_prefix(entry.ids, request.ids)
    for k, (start, end) in enumerate(request.spans):
        if start >= n:
            break
        if end > n or k >= len(entry.images) or entry.images[k] != request.images[k]:
            return start  # the text before this image is shared, the image is not (or not whole)
    return n


class PrefixCache:
    """LRU store of prompt keys and values under a byte budget (see the module docstring)."""

    def __init__(self):
        self._entries: OrderedDict[int, Entry] = OrderedDict()
        self._lock = threading.Lock()  # apart from the engine's: a release never waits for a generation
        self.stats: Counter[str] = Counter()

    # --- reading ---------------------------------------------------------------------
    def lookup(self, request: PromptKey, *, max_tokens: int | None = None) -> tuple[Entry | None, int]:
        """The entry serving the longest prefix of ``request`` (at most ``max_tokens``
        tokens), and that length; (None, 0) when none serves any."""
        limit = len(request) if max_tokens is None else max_tokens
        best: tuple[Entry | None, int] = (None, 0)
        with self._lock:
            for entry in self._entries.values():
                n = min(usable_prefix(entry.key, request), limit)
                while n > 0 and any(s < n < e for s, e in request.spans):  # limit cut an image
                    n = next(s for s, e in request.spans if s < n < e)
                if n > best[1]:
                    best = (entry, n)
            if best[0] is not None:
                self._entries.move_to_end(id(best[0]))
        return best

    @staticmethod
    def copy_kv(entry: Entry, n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The first ``n`` tokens' keys and values, copied: generation extends its own copy,
        never the stored prefix."""
        return [(k[..., :n, :].clone(), v[..., :n, :].clone()) for k, v in entry.kv]

    # --- writing ---------------------------------------------------------------------
    def put(self, key: PromptKey, kv: list[tuple[torch.Tensor, torch.Tensor]], budget: int, *,
            pin: bool = False) -> tuple[Entry | None, PrefixHandle | None]:
        """Store ``kv`` for ``key`` (pinned when asked). Entries it extends are replaced (their
        pins move to it); then least recently used unpinned entries go until the total fits
        ``budget`` bytes. Returns the entry (None when it alone is over budget and unpinned)."""
        nbytes = sum(k.numel() * k.element_size() + v.numel() * v.element_size() for k, v in kv)
        if not pin and nbytes > budget:
            self.stats["too_big"] += 1
            return None, None
        entry = Entry(key, kv, nbytes)
        with self._lock:
            for old in list(self._entries.values()):
                if len(old) <= len(key) and usable_prefix(old.key, key) == len(old):
                    del self._entries[id(old)]
                    for p in old.pins:
                        p.entry = entry
                    entry.pins.extend(old.pins)
                    self.stats["replaced"] += 1
            self._entries[id(entry)] = entry
            new_pin = None
            if pin:
                new_pin = PrefixHandle(self, entry)
                entry.pins.append(new_pin)
            self.stats["stored"] += 1
            self._evict(budget)
        return (entry if id(entry) in self._entries else None), new_pin

    def _evict(self, budget: int) -> None:
        total = sum(e.nbytes for e in self._entries.values())
        for entry in list(self._entries.values()):  # oldest first
            if total <= budget:
                break
            if entry.pins:
                continue
            del self._entries[id(entry)]
            total -= entry.nbytes
            self.stats["evicted"] += 1

    def trim(self, budget: int) -> None:
        with self._lock:
            self._evict(budget)

    def pin(self, entry: Entry) -> PrefixHandle | None:
        with self._lock:
            if id(entry) not in self._entries:
                return None
            p = PrefixHandle(self, entry)
            entry.pins.append(p)
            return p

    def release(self, pin: PrefixHandle, *, drop: bool = True) -> bool:
        with self._lock:
            entry, pin.entry = pin.entry, None
            if entry is None:
                return False
            entry.pins = [p for p in entry.pins if p is not pin]
            if drop and not entry.pins and id(entry) in self._entries:
                del self._entries[id(entry)]
                self.stats["dropped"] += 1
                return True
            return False

    def clear(self) -> None:
        with self._lock:
            for entry in self._entries.values():
                for p in entry.pins:
                    p.entry = None
            if self._entries:
                self.stats["cleared"] += len(self._entries)
            self._entries.clear()

    def newest(self, n: int) -> list[Entry]:
        """The ``n`` most recently used entries, newest first."""
        with self._lock:
            return list(reversed(self._entries.values()))[:n]

    # --- looking at it ---------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(e.nbytes for e in self._entries.values())

    def report(self) -> dict:
        with self._lock:
            entries = list(self._entries.values())
        return dict(self.stats, entries=len(entries), bytes=sum(e.nbytes for e in entries),
                    pinned=sum(1 for e in entries if e.pins), tokens=[len(e) for e in entries])
