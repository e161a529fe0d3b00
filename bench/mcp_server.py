"""The MCP server beside the other ways to reach the same index: how long an MCP client waits
for ``vlagent mcp`` to be ready (process start → tools listed), and the latency of a search and
of ``get_image`` over MCP stdio, MCP streamable HTTP, the HTTP API and the CLI (a process per
call), with the index's own search in-process as the floor. Prints a table.

    python bench/mcp_server.py [--size 10000] [--repeats 20]

(Not bench/mcp.py: bench/ is first on sys.path, and that name would hide the mcp package.)

The corpus is vlagent.samples.memory_corpus (generated screenshots' OCR text, English and
Chinese, no model needed); the queries are words of its planted facts, in both languages.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from api import pct, table  # noqa: E402 - bench/api.py's helpers (bench/ is on sys.path)

QUERIES = ["invoice", "ECONNREFUSED", "数据库连接", "航班"]


def build_home(root: Path, size: int) -> tuple[Path, list[int]]:
    from vlagent.home import Home
    from vlagent.index.store import Index
    from vlagent.samples import memory_corpus

    home = Home(root / "home").ensure()
    (home.root / "config.toml").write_text('[general]\nlanguage = "en"\n', encoding="utf-8")
    index = Index.open(home)
    answers = memory_corpus(index, size, now=time.time())
    index.close()
    return home.root, sorted(answers.values())[:8]


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def floor(home: Path, ids: list[int], repeats: int) -> dict:
    from vlagent.home import Home
    from vlagent.index.store import Index

    index = Index.open(Home(home))
    try:
        search = [x for q in QUERIES for x in timed(lambda q=q: index.search_page(q, limit=20), repeats)]
        get = [x for i in ids for x in timed(lambda i=i: index.image(i), repeats)]
    finally:
        index.close()
    return {"path": "index in-process (the floor)", "start_s": None, "search": search, "get": get}


def over_mcp(name: str, connect, started: float, ids: list[int], repeats: int) -> dict:
    from tests.mcp.conftest import McpSession

    session = McpSession(connect)
    try:
        tools = session.list_tools()
        start_s = time.perf_counter() - started
        assert {t.name for t in tools.tools} >= {"search_images", "get_image"}

        def search(q: str) -> None:
            r = session.call("search_images", {"query": q, "limit": 20})
            assert not r.is_error and r.structured_content["hits"], (q, r)

        def get(i: int) -> None:
            r = session.call("get_image", {"id": i})
            assert not r.is_error, r

        return {"path": name, "start_s": start_s,
                "search": [x for q in QUERIES for x in timed(lambda q=q: search(q), repeats)],
                "get": [x for i in ids for x in timed(lambda i=i: get(i), repeats)]}
    finally:
        session.close()


def mcp_stdio(home: Path, ids: list[int], repeats: int, work: Path) -> dict:
    from mcp.client.stdio import StdioServerParameters, stdio_client

    from tests.conftest import cli_env

    params = StdioServerParameters(command=sys.executable, args=["-m", "vlagent", "mcp"], env=cli_env(home),
                                   cwd=str(REPO))
    errlog = open(work / "mcp-stdio.log", "w", encoding="utf-8")  # noqa: SIM115 - written while it runs
    try:
        return over_mcp("MCP over stdio", lambda: stdio_client(params, errlog=errlog), time.perf_counter(), ids,
                        repeats)
    finally:
        errlog.close()


def mcp_http(home: Path, ids: list[int], repeats: int) -> dict:
    from tests.conftest import cli_env
    from tests.mcp.conftest import authed

    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "vlagent", "mcp", "--http", "--port", "0"], cwd=str(REPO),
                            env=cli_env(home), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+/mcp", proc.stdout.readline().decode()).group(0)
        token = (home / "api-token").read_text().strip()
        return over_mcp("MCP over streamable HTTP", authed(url, token), started, ids, repeats)
    finally:
        proc.kill()
        proc.wait(10)


def api(home: Path, ids: list[int], repeats: int) -> dict:
    import httpx

    from tests.api.conftest import start_serve

    started = time.perf_counter()
    served = start_serve(home)
    try:
        with httpx.Client(headers=served.auth(), timeout=60) as client:
            client.get(f"{served.base}/search", params={"q": "warm"}).raise_for_status()
            start_s = time.perf_counter() - started

            def search(q: str) -> None:
                r = client.get(f"{served.base}/search", params={"q": q, "limit": 20})
                r.raise_for_status()
                assert r.json()["data"], q

            def get(i: int) -> None:
                client.get(f"{served.base}/images/{i}").raise_for_status()

            return {"path": "HTTP API (/v1/search, /v1/images/ID)", "start_s": start_s,
                    "search": [x for q in QUERIES for x in timed(lambda q=q: search(q), repeats)],
                    "get": [x for i in ids for x in timed(lambda i=i: get(i), repeats)]}
    finally:
        served.stop()


def cli(home: Path, ids: list[int], repeats: int) -> dict:
    from tests.conftest import cli_env

    env = cli_env(home)

    def run(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "vlagent", *args, "--json"], env=env, cwd=str(REPO), check=True,
                       capture_output=True)

    n = max(2, repeats // 5)
    return {"path": f"CLI, a process per call ({n} repeats)", "start_s": None,
            "search": [x for q in QUERIES for x in timed(lambda q=q: run("search", q), n)],
            "get": [x for i in ids[:2] for x in timed(lambda i=i: run("show", str(i)), n)]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=20)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="vlagent-bench-mcp-") as tmp:
        work = Path(tmp)
        home, ids = build_home(work, args.size)
        runs = [floor(home, ids, args.repeats), mcp_stdio(home, ids, args.repeats, work),
                mcp_http(home, ids, args.repeats), api(home, ids, args.repeats), cli(home, ids, args.repeats)]
    load = os.getloadavg()[0]
    print(f"\n{args.size:,} indexed screenshots (OCR text, English and Chinese), queries {', '.join(QUERIES)}, "
          f"{os.cpu_count()} cores, load {load:.1f}\n")
    rows = [[r["path"], "-" if r["start_s"] is None else f"{r['start_s']:.2f}",
             f"{statistics.median(r['search']):.1f}", f"{pct(r['search'], 0.95):.1f}",
             f"{statistics.median(r['get']):.1f}", f"{pct(r['get'], 0.95):.1f}"] for r in runs]
    print(table(["path", "ready s", "search p50 ms", "search p95 ms", "get_image p50 ms", "get_image p95 ms"], rows))
    print("\n(ready: process start until the first answer: tools listed for MCP, a search for the API)")
    print(json.dumps([{k: v for k, v in r.items() if k not in ("search", "get")} for r in runs]))


if __name__ == "__main__":
    main()
