"""Questions over everything seen: retrieval recall and latency at 10k and 100k images, and the
answer's prompt size and time to first token on the tiny model. Prints tables.

    python bench/memory.py [--sizes 10000,100000] [--repeats 5]

The corpus is generated (vlagent.samples.memory_corpus): screenshots' OCR text in English and
Chinese seen over 180 days, plus planted facts at known times, each with distractors that
share its words at other times. Recall@k: the planted image among the top k candidates.
Latency: the whole retrieval (time expression, words, the searches it needed), p50/p95 over
repeats of every question, warm (the second run onwards).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

NOW = datetime(2026, 12, 5, 15, 0)


from api import pct  # noqa: E402 - bench/api.py's percentile (bench/ is on sys.path)


def retrieval(size: int, repeats: int, work: Path) -> dict:
    from vlagent.home import Home
    from vlagent.index.store import Index
    from vlagent.memory import Retriever
    from vlagent.samples import memory_corpus

    home = Home(work / f"mem-{size}").ensure()
    index = Index.open(home)
    t0 = time.perf_counter()
    answers = memory_corpus(index, size, now=NOW.timestamp())
    build_s = time.perf_counter() - t0
    r = Retriever(index, k=8)
    hits1 = hits5 = 0
    lat: list[float] = []
    for q, iid in answers.items():
        res = r.retrieve(q, now=NOW)  # cold run: recall
        ids = [c.image_id for c in res.candidates]
        hits1 += ids[:1] == [iid]
        hits5 += iid in ids[:5]
        for _ in range(repeats):
            t = time.perf_counter()
            r.retrieve(q, now=NOW)
            lat.append((time.perf_counter() - t) * 1000)
    index.close()
    n = len(answers)
    return {"size": size, "questions": n, "r1": hits1 / n, "r5": hits5 / n, "p50": statistics.median(lat),
            "p95": pct(lat, 0.95), "build_s": build_s}


def answer_on_tiny(work: Path) -> dict:
    from vlagent.dev.tiny_model import build
    from vlagent.home import Home
    from vlagent.index.store import Index
    from vlagent.jobs.build import build_engine
    from vlagent.memory import ask_memory
    from vlagent.memory.answer import estimate_tokens
    from vlagent.samples import memory_corpus
    from vlagent.settings import Settings

    model = build(work / "tiny", "qwen2_5_vl")
    home = Home(work / "mem-answer").ensure()
    index = Index.open(home)
    memory_corpus(index, 2000, now=NOW.timestamp())
    settings = Settings()
    for k, v in {"vlm.model": str(model), "vlm.dtype": "float32", "vlm.cpu_quantize": False,
                 "memory.answer_tokens": 16, "memory.images": 0, "general.language": "en"}.items():
        settings.override(k, v)
    engine = build_engine(settings, home)
    engine.load()
    rows = []
    for q in ("what was the total on the ACME invoice last week?", "上周那个报错截图里的端口号是多少?"):
        first: list[float] = []
        t = time.perf_counter()
        ans = ask_memory(q, index=index, settings=settings, engine=engine, now=NOW, store=False,
                         on_token=lambda _p: first.append(time.perf_counter()) if not first else None)
        ttft = (first[0] - t) * 1000 if first else float("nan")
        rows.append({"question": q, "candidates": len(ans.sources), "in_prompt": ans.candidates_in_prompt,
                     "prompt_chars": ans.prompt_chars, "prompt_tokens_est": estimate_tokens(" " * ans.prompt_chars),
                     "input_tokens": ans.timings.get("input_tokens"), "ttft_ms": ttft,
                     "retrieve_ms": ans.timings.get("retrieve_ms"), "rewrite_ms": ans.timings.get("rewrite_ms", 0.0),
                     "total_ms": ans.timings.get("total_ms")})
    engine.unload()
    index.close()
    return {"rows": rows, "budget": settings.view.memory.context_tokens}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-answer", action="store_true", help="skip the tiny-model answer part")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="vlagent-bench-memory-") as tmp:
        work = Path(tmp)
        results = [retrieval(int(s), args.repeats, work) for s in args.sizes.split(",")]
        print(f"\nretrieval ({os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}); goal: recall@5 ≥ 0.9, "
              f"p95 ≤ 50 ms at 100k\n")
        print("| images | questions | recall@1 | recall@5 | p50 ms | p95 ms | corpus build s |")
        print("|---|---|---|---|---|---|---|")
        for r in results:
            print(f"| {r['size']:,} | {r['questions']} | {r['r1']:.2f} | {r['r5']:.2f} | {r['p50']:.1f} | "
                  f"{r['p95']:.1f} | {r['build_s']:.0f} |")
        if not args.no_answer:
            a = answer_on_tiny(work)
            print(f"\nanswer on the tiny Qwen2.5-VL (text only, context budget {a['budget']} tokens)\n")
            print("| question | candidates | in prompt | prompt chars | input tokens | retrieve ms | rewrite ms | "
                  "TTFT ms | total ms |")
            print("|---|---|---|---|---|---|---|---|---|")
            for r in a["rows"]:
                print(f"| {r['question']} | {r['candidates']} | {r['in_prompt']} | {r['prompt_chars']} | "
                      f"{r['input_tokens']} | {r['retrieve_ms']} | {r['rewrite_ms']} | {r['ttft_ms']:.0f} | "
                      f"{r['total_ms']} |")


if __name__ == "__main__":
    main()
