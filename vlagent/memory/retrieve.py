"""Retrieval for questions over everything seen: from a question to the few images most likely
to hold its answer, with the text that matched. No model, no Qt: the index's search does the
work, with the question's time range, source hints and content words, widening step by step
when nothing matches, and a recency prior in the final order.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from vlagent.memory.timeparse import TimeRange, extract_time

if TYPE_CHECKING:
    from vlagent.index.rows import HitRow
    from vlagent.index.store import Index

RECENCY_HALF_LIFE_DAYS = 14.0
RECENCY_WEIGHT = 0.25

_EN_STOP = set("""
a an the and or but if of on in at to for from by with about as into over under after before between is are was were
be been being am do does did doing have has had having i me my mine we us our you your he him his she her it its they
them their what which who whom whose when where why how that this these those there here any some all each every
show tell find give please can could would should will shall may might must did see saw seen look looked looking
last time times ever one ones thing things something anything image images picture pictures photo photos screen
screenshot screenshots shot shots seen remember recall again just also there's what's i'm it's that's
""".split())
_ZH_STOP = """
请问 告诉我 帮我 一下 那个 这个 那张 这张 哪个 哪些 哪张 哪里 哪天 什么 多少 怎么 为什么 是否 有没有 是不是 时候
截图里 截图中 图片里 图片中 图里 上面 里面 截图 图片 照片 看到 见过 看过 我的 我 你 的 了 吗 呢 吧 是 在 里
中 有 和 与 及 上 那 这 哪 张 个 把 被 给 过 所 之 说 最后 一次
""".split()
_ZH_STOP_RE = re.compile("|".join(sorted(map(re.escape, _ZH_STOP), key=len, reverse=True)))
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_TOKEN = re.compile(r'"[^"]+"|[\u3400-\u9fff\uf900-\ufaff]+|[A-Za-z0-9][A-Za-z0-9._:/@#%$+-]*')
_SOURCE_HINTS = {"screenshot": ("screenshot", "screenshots", "screen shot", "截图", "截屏"),
                 "folder": ("folder", "文件夹", "目录"), "import": ("imported", "导入")}


@dataclass(frozen=True)
class Candidate:
    image_id: int
    score: float  # after the recency prior; higher is better
    relevance: float  # the search's own score
    first_seen: float
    path: str | None
    snippet: str  # the text that matched (highlighted between [ and ])
    ocr: str
    description: str


@dataclass
class SearchStep:
    query: str
    filters: dict[str, object]
    hits: int
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"query": self.query, "filters": self.filters, "hits": self.hits, "note": self.note}


@dataclass
class Retrieval:
    question: str
    terms: list[str]
    time_range: TimeRange | None
    source: str | None
    candidates: list[Candidate] = field(default_factory=list)
    searched: list[SearchStep] = field(default_factory=list)
    ms: float = 0.0

    @property
    def language(self) -> str:
        return question_language(self.question)


def question_language(text: str) -> str:
    cjk = len(_CJK.findall(text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return "zh" if cjk and cjk * 3 >= latin else "en"


def search_terms(question: str) -> list[str]:
    """Content words of a question: quoted phrases kept, question and function words dropped,
    Chinese runs cut at function words (the index segments what is left)."""
    out: list[str] = []
    for tok in _TOKEN.findall(question):
        if tok.startswith('"'):
            out.append(tok)
        elif _CJK.match(tok):
            out += [part for part in _ZH_STOP_RE.split(tok) if len(part) >= 1 and part.strip()]
        elif tok.lower() not in _EN_STOP and (len(tok) > 1 or tok.isdigit()):
            out.append(tok)
    seen: set[str] = set()
    return [t for t in out if not (t.lower() in seen or seen.add(t.lower()))]  # type: ignore[func-returns-value]


def source_hint(question: str) -> str | None:
    q = question.lower()
    for source, words in _SOURCE_HINTS.items():
        if any(w in q for w in words):
            return source
    return None


class Retriever:
    def __init__(self, index: Index, *, k: int = 8, pool: int = 60):
        self.index, self.k, self.pool = index, k, pool

    def retrieve(self, question: str, *, now: datetime | None = None, extra_terms: list[str] | None = None,
                 into: Retrieval | None = None) -> Retrieval:
        """The top ``k`` candidates. ``extra_terms`` (the model's rewrite) are searched as
        alternatives to the question's own words; ``into`` adds to an earlier retrieval."""
        from vlagent.index.search import Filters

        t0 = time.perf_counter()
        now = now or datetime.now()
        time_range, rest = extract_time(question, now)
        terms = search_terms(rest)
        r = into or Retrieval(question, terms, time_range, source_hint(question))
        base = Filters(since=time_range.since, until=time_range.until) if time_range else Filters()
        if extra_terms:
            plan = [(" OR ".join(_quote_alt(t) for t in extra_terms), base, "the model's search words")]
        else:
            plan = self._plan(terms, r.source, base, time_range)
        rows: list[HitRow] = []
        for query, filters, note in plan:
            page = self.index.search_page(query, filters=filters, limit=self.pool, relax=bool(query.strip()))
            r.searched.append(SearchStep(query, _filters_dict(filters), len(page.hits),
                                         note + (" (relaxed: some of the words)" if page.relaxed else "")))
            if page.hits:
                rows = list(page.hits)
                break
        fresh = self._rank(rows, now, extra_terms or terms)
        merged = {c.image_id: c for c in r.candidates}
        for c in fresh:
            if c.image_id not in merged or merged[c.image_id].score < c.score:
                merged[c.image_id] = c
        r.candidates = sorted(merged.values(), key=lambda c: -c.score)[:self.k]
        r.ms += (time.perf_counter() - t0) * 1000
        return r

    def _plan(self, terms: list[str], source: str | None, base: object,
              time_range: TimeRange | None) -> list[tuple[str, Any, str]]:
        """The searches to try in order, from the narrowest."""
        from vlagent.index.search import Filters

        assert isinstance(base, Filters)
        words = " ".join(terms)
        steps: list[tuple[str, Any, str]] = []
        if source:
            steps.append((words, Filters(source=source, since=base.since, until=base.until), "with the source hint"))
        steps.append((words, base, "the question's words" + (" and time" if time_range else "")))
        if time_range is not None:
            span = time_range.until - time_range.since
            wide = Filters(since=time_range.since - max(span, 3 * 86400), until=time_range.until + max(span, 86400))
            steps.append((words, wide, "a wider time range"))
            if words:
                steps.append((words, Filters(), "any time"))
        if len(terms) > 1:
            steps.append((" OR ".join(_quote_alt(t) for t in terms), Filters(), "any of the words, any time"))
        return steps

    def _rank(self, rows: list[HitRow], now: datetime, terms: list[str]) -> list[Candidate]:
        """Search score, how many of the words the image's text holds (spelling-insensitive:
        "wifi" finds "Wi-Fi"), and the recency prior."""
        if not rows:
            return []
        top = max((h.score for h in rows), default=0.0) or 1.0
        keys = [k for k in (_fold(t) for t in terms) if k]
        out = []
        now_s = now.timestamp()
        for pos, h in enumerate(rows):
            search = h.score / top if h.score > 0 else 1.0 / (1 + pos)
            if keys:
                text = _fold(" ".join((h.image.ocr or "", h.image.description or "", h.image.path or "")))
                coverage = sum(k in text for k in keys) / len(keys)
                relevance = 0.5 * search + 0.5 * coverage
            else:
                relevance = search
            age_days = max(0.0, now_s - h.image.first_seen) / 86400
            recency = math.exp(-age_days * math.log(2) / RECENCY_HALF_LIFE_DAYS)
            score = (1 - RECENCY_WEIGHT) * relevance + RECENCY_WEIGHT * recency
            out.append(Candidate(h.image_id, round(score, 4), round(h.score, 4), h.image.first_seen, h.image.path,
                                 h.snippet, h.image.ocr or "", h.image.description or ""))
        return out


def _fold(text: str) -> str:
    """Lower case without spaces and punctuation: "Wi-Fi" and "wifi" fold alike."""
    return re.sub(r"[\W_]+", "", text.lower())


def _quote_alt(term: str) -> str:
    t = term.strip().strip('"')
    return f'"{t}"' if " " in t else t


def _filters_dict(f: object) -> dict[str, object]:
    out: dict[str, object] = {}
    for key in ("source", "folder", "since", "until"):
        v = getattr(f, key, None)
        if v is not None:
            out[key] = datetime.fromtimestamp(v).strftime("%Y-%m-%d %H:%M") if key in ("since", "until") else v
    return out
