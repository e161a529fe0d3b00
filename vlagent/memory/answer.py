"""Answering a question over everything seen: retrieval, (when it found too little, or the
question's language differs from the images') one short generation that rewrites the
question into search words in English and Chinese, then the answer, grounded in the
candidates' text (and the best images themselves where the budget allows), citing ``[#id]``.

Nothing retrieved → no generation: the answer says so and what was searched. The answer is
stored like other answers (kind ``answer``, searchable) on the images it cites.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from vlagent.common import Cancelled, CancelToken
from vlagent.memory.retrieve import Candidate, Retrieval, Retriever, question_language

if TYPE_CHECKING:
    from vlagent.index.store import Index
    from vlagent.settings import Settings
    from vlagent.vlm.base import VlmEngine

CITATION = re.compile(r"\[#(\d+)\]")
MEMORY_MODEL_ID = "vlagent-memory"

PROMPTS = {
    "en": ("You answer questions about what the user has seen on their screen and in their images. Use only "
           "the numbered images below (their on-screen text and descriptions). Cite every image you use as "
           "[#id]. If they do not contain the answer, say so. Answer in English, briefly.\n\n{context}\n"
           "Question: {question}\nAnswer:"),
    "zh": ("你根据用户看过的屏幕截图和图片回答问题。"
           "只使用下面编号的图片（其中的文字和描述），每用到一张就用 [#编号] 标注。"
           "如果其中没有答案，就直说。用中文简短回答。\n\n{context}\n问题：{question}\n回答："),
}
REWRITE = ("Rewrite the question as search keywords that would appear as text on the screen: 3 to 8 keywords in "
           "English and the same in Chinese, on one line, separated by spaces, nothing else.\n"
           "Question: {question}\nKeywords:")
NOTHING = {
    "en": "I found nothing in what you have seen that matches this. Searched: {searched}.",
    "zh": "在你看过的内容里没有找到相关的图片。搜索过：{searched}。",
}


@dataclass
class Source:
    id: int
    path: str | None
    time: str
    first_seen: float
    score: float
    snippet: str
    cited: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "path": self.path, "time": self.time, "first_seen": self.first_seen,
                "score": self.score, "snippet": self.snippet, "cited": self.cited}


@dataclass
class MemoryAnswer:
    question: str
    text: str
    sources: list[Source] = field(default_factory=list)
    searched: list[dict[str, Any]] = field(default_factory=list)
    time_range: str | None = None
    terms: list[str] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)
    model: str | None = None
    engine: str | None = None
    prompt_chars: int = 0
    candidates_in_prompt: int = 0
    images_in_prompt: int = 0
    timings: dict[str, Any] = field(default_factory=dict)
    answered: bool = False  # False: nothing was retrieved, no model ran

    @property
    def cited_ids(self) -> list[int]:
        return [s.id for s in self.sources if s.cited]

    def as_dict(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.text, "answered": self.answered,
                "sources": [s.as_dict() for s in self.sources], "cited": self.cited_ids,
                "searched": self.searched, "time_range": self.time_range, "terms": self.terms,
                "rewritten_terms": self.rewritten, "model": self.model, "engine": self.engine,
                "prompt_chars": self.prompt_chars, "candidates_in_prompt": self.candidates_in_prompt,
                "images_in_prompt": self.images_in_prompt, "timings": self.timings}


def estimate_tokens(text: str) -> int:
    """Roughly what a Qwen tokenizer makes of it: a CJK character ~1 token, ~4 other characters a token."""
    cjk = len(re.findall(r"[\u3400-\u9fff]", text))
    return cjk + (len(text) - cjk + 3) // 4


def build_context(candidates: list[Candidate], budget_tokens: int, per_item_chars: int = 1200) -> tuple[str, int]:
    """The candidates as numbered entries, best first, until the token budget is spent."""
    parts: list[str] = []
    used = 0
    for c in candidates:
        when = datetime.fromtimestamp(c.first_seen).strftime("%Y-%m-%d %H:%M")
        body = []
        if c.ocr.strip():
            body.append("text: " + " ".join(c.ocr.split())[:per_item_chars])
        if c.description.strip():
            body.append("description: " + " ".join(c.description.split())[:per_item_chars // 2])
        entry = f"[#{c.image_id}] seen {when}" + (f", file {c.path.rsplit('/', 1)[-1]}" if c.path else "") + "\n" + \
            "\n".join(body) + "\n"
        cost = estimate_tokens(entry)
        if parts and used + cost > budget_tokens:
            break
        parts.append(entry)
        used += cost
    return "\n".join(parts), len(parts)


def parse_citations(text: str, allowed: set[int]) -> list[int]:
    out: list[int] = []
    for m in CITATION.finditer(text):
        i = int(m.group(1))
        if i in allowed and i not in out:
            out.append(i)
    return out


def ask_memory(question: str, *, index: Index, settings: Settings, engine: VlmEngine | None,
               on_token: Callable[[str], None] | None = None, now: datetime | None = None, store: bool = True,
               load_image: Callable[[int], Any] | None = None, cancel: CancelToken | None = None) -> MemoryAnswer:
    """Retrieve, (maybe) rewrite, answer, store. ``engine`` None: retrieval only (``answered`` False
    with the candidates listed). ``load_image(id)`` gives a PIL image for the image-grounded part.
    ``cancel`` set (the asker went away): the generation stops at its next token, nothing is
    stored, :class:`~vlagent.common.Cancelled` is raised."""
    from vlagent.vlm.base import ChatMessage, GenerationOptions

    mem = settings.view.memory
    t0 = time.perf_counter()
    question = question.strip()
    if not question:
        raise ValueError("the question is empty")
    retriever = Retriever(index, k=mem.candidates)
    r = retriever.retrieve(question, now=now)
    timings: dict[str, Any] = {"retrieve_ms": round(r.ms, 1)}
    rewritten: list[str] = []
    if engine is not None and mem.rewrite and _needs_rewrite(r, mem.candidates):
        t = time.perf_counter()
        _check(cancel)
        g = engine.chat([ChatMessage("user", REWRITE.format(question=question), [])],
                        GenerationOptions.from_settings(settings, max_new_tokens=mem.rewrite_tokens, do_sample=False),
                        cancel=cancel)
        _check(cancel)
        rewritten = _keywords(g.text)[:16]
        if rewritten:
            r = retriever.retrieve(question, now=now, extra_terms=rewritten, into=r)
        timings["rewrite_ms"] = round((time.perf_counter() - t) * 1000, 1)
    ans = MemoryAnswer(question, "", searched=[s.as_dict() for s in r.searched],
                       time_range=r.time_range.label if r.time_range else None, terms=r.terms, rewritten=rewritten)
    ans.sources = [Source(c.image_id, c.path, datetime.fromtimestamp(c.first_seen).strftime("%Y-%m-%d %H:%M"),
                          c.first_seen, c.score, c.snippet) for c in r.candidates]
    lang = question_language(question)
    if not r.candidates:
        searched = "; ".join(f"{s.query or '(any text)'} {s.filters or ''}".strip() for s in r.searched) or question
        ans.text = NOTHING[lang].format(searched=searched)
        ans.timings = dict(timings, total_ms=round((time.perf_counter() - t0) * 1000, 1))
        return ans
    if engine is None:
        ans.timings = dict(timings, total_ms=round((time.perf_counter() - t0) * 1000, 1))
        return ans
    context, used = build_context(r.candidates, mem.context_tokens)
    prompt = PROMPTS[lang].format(context=context, question=question)
    images = []
    if load_image is not None and mem.images > 0:
        for c in r.candidates[:min(mem.images, used)]:
            try:
                images.append(load_image(c.image_id))
            except Exception:  # an image whose file is gone: its text is still in the prompt
                continue
    opts = GenerationOptions.from_settings(settings, max_new_tokens=mem.answer_tokens)
    if images:
        opts.max_pixels = min(opts.max_pixels, mem.image_max_pixels)
    t = time.perf_counter()
    _check(cancel)
    g = engine.chat([ChatMessage("user", prompt, images)], opts, on_token=on_token, cancel=cancel)
    if g.finish_reason == "cancelled":
        raise Cancelled("the question was stopped")
    timings["answer_ms"] = round((time.perf_counter() - t) * 1000, 1)
    timings.update({k: v for k, v in g.timings.items() if k in ("time_to_first_token_ms", "prefill_ms", "new_tokens",
                                                                "input_tokens", "visual_tokens", "decode_ms")})
    ans.text, ans.answered = g.text.strip(), True
    ans.model, ans.engine = g.model, g.engine
    ans.prompt_chars, ans.candidates_in_prompt, ans.images_in_prompt = len(prompt), used, len(images)
    cited = parse_citations(ans.text, {s.id for s in ans.sources})
    for s in ans.sources:
        s.cited = s.id in cited
    ans.timings = dict(timings, total_ms=round((time.perf_counter() - t0) * 1000, 1))
    if store:
        store_answer(index, ans)
    return ans


def store_answer(index: Index, ans: MemoryAnswer) -> list[int]:
    """Keep the answer as each cited image's answer (the best candidate's when none was cited):
    searchable, shown by ``vlagent show``, with its sources and timings."""
    from vlagent.index.store import Result

    ids = ans.cited_ids or ([ans.sources[0].id] if ans.sources else [])
    params = {"memory": True, "sources": [s.id for s in ans.sources], "cited": ans.cited_ids,
              "time_range": ans.time_range, "terms": ans.terms, "rewritten_terms": ans.rewritten}
    for image_id in ids:
        index.add_result(image_id, Result(kind="answer", text=ans.text, engine=ans.engine or "", model=ans.model,
                                          prompt=ans.question, params=params,
                                          latency_ms=ans.timings.get("total_ms"), timings=ans.timings))
    return ids


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None and cancel.cancelled:
        raise Cancelled("the question was stopped")


def _needs_rewrite(r: Retrieval, k: int) -> bool:
    """Too few candidates, or the question's language differs from the best candidates' text."""
    if len(r.candidates) < max(1, k // 2):
        return True
    texts = " ".join(c.ocr[:200] + c.description[:200] for c in r.candidates[:3])
    return bool(texts.strip()) and question_language(texts) != question_language(r.question)


def _keywords(text: str) -> list[str]:
    line = text.strip().splitlines()[0] if text.strip() else ""
    words = re.split(r"[\s,，、;；]+", line)
    return [w.strip("\"'.:：") for w in words if w.strip("\"'.:：")]


__all__ = ["MEMORY_MODEL_ID", "MemoryAnswer", "Source", "ask_memory", "build_context", "estimate_tokens",
           "parse_citations", "store_answer"]
