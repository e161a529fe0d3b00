"""Benchmarks of the local API and the remote backend. Prints tables; numbers are for the
machine it runs on (a shared machine makes them noisy: medians and ratios within a run).

    python bench/api.py overhead    # the server's own cost per request, vs calling the engine directly
    python bench/api.py batching    # throughput and latency at concurrency 1, 4, 8: dynamic batching on / off
    python bench/api.py remote      # backlog throughput through the remote backend, concurrency 1 vs 4
    python bench/api.py all

``overhead`` runs a tiny random checkpoint in-process (the engine alone), then the same
checkpoint behind ``vlagent serve`` in a subprocess, at concurrency 1 and 8. The per-request
overhead is the client's latency minus the model time the server reports for that request
(HTTP, JSON, base64 and image decoding, the hop to the worker thread and back).
``batching`` runs closed-loop clients (each sends its next request when its answer is in)
against ``vlagent serve --max-num-seqs 8`` (requests that arrive together are generated as
one batch) and ``--max-num-seqs 1`` (one at a time), each client with images of its own, the
prefix cache off so that only batching differs.
``remote`` describes a backlog of images through the openai backend, against a second
``vlagent serve`` (one worker: requests take turns) and against a stand-in server that
answers after a fixed delay and in parallel, as a batching GPU server (vLLM) does.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

MODEL_SETTINGS = {"general.language": "en", "vlm.dtype": "float32", "vlm.cpu_quantize": False,
                  "vlm.max_pixels": 64 * 28 * 28, "vlm.idle_unload_s": 0.0}


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))] if xs else float("nan")


def write_config(home: Path, settings: dict) -> None:
    """``home``/config.toml holding ``settings`` (dotted keys: ``{"vlm.model": …}``)."""
    import tomli_w

    tables: dict = {}
    for key, value in settings.items():
        section, name = key.split(".", 1)
        tables.setdefault(section, {})[name] = value
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_bytes(tomli_w.dumps(tables).encode())


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(h) for h in headers]] + [[f"{c:.1f}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in cells[1:]])


def settings_with(overrides: dict):
    from vlagent.settings import Settings

    s = Settings(None)
    for k, v in overrides.items():
        s.override(k, v)
    return s


def tiny_model(work: Path) -> Path:
    from vlagent.dev.tiny_model import build

    out = work / "tiny"
    return out if (out / "config.json").exists() else build(out, "qwen2_5_vl")


class Serve:
    """``vlagent serve --port 0`` on its own data home, with settings written to config.toml."""

    def __init__(self, home: Path, settings: dict, args: tuple[str, ...] = ()):
        write_config(home, settings)
        env = {**__import__("os").environ, "VLAGENT_HOME": str(home), "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen([sys.executable, "-m", "vlagent", "serve", "--port", "0", *args], env=env,
                                     cwd=REPO,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        for raw in self.proc.stdout:
            line = raw.decode()
            if "listening on " in line:
                self.url = line.split("listening on ", 1)[1].split()[0]
                break
        else:
            raise SystemExit("vlagent serve did not start")
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()
        self.token = (home / "api-token").read_text().strip()
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)


def data_url(image) -> str:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


# --- overhead: the server vs the engine ---------------------------------------------------
def bench_overhead(args, work: Path) -> None:
    import httpx

    from vlagent.samples import text_image
    from vlagent.vlm.base import ChatMessage, GenerationOptions
    from vlagent.vlm.transformers_backend import TransformersEngine

    model = tiny_model(work)
    settings = {**MODEL_SETTINGS, "vlm.model": str(model), "vlm.max_new_tokens": args.tokens}
    image = text_image(["Invoice 2024-0193", "Total 42.50"], font_size=22)
    url = data_url(image)
    question = "What is the total?"

    engine = TransformersEngine(settings_with(settings))
    opts = GenerationOptions.from_settings(engine.settings)
    msgs = [ChatMessage("user", question, [image])]
    serve = Serve(work / "serve-home", settings)
    body = {"model": "vlagent", "max_tokens": args.tokens,
            "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}},
                                                       {"type": "text", "text": question}]}]}
    try:
        with httpx.Client(timeout=300, headers=serve.headers) as client:
            def served(_=None) -> tuple[float, float]:
                t0 = time.perf_counter()
                r = client.post(f"{serve.url}/v1/chat/completions", json=body)
                ms = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    raise SystemExit(f"vlagent serve answered {r.status_code}: {r.text}")
                return ms, r.json()["timings"]["total_ms"]

            def direct() -> float:
                t0 = time.perf_counter()
                engine.chat(msgs, opts)
                return (time.perf_counter() - t0) * 1000

            for _ in range(3):
                direct(), served()
            # Interleaved, so both paths see the same load on a shared machine.
            pairs = [(direct(), served()) for _ in range(args.requests)]
            direct_ms = [d for d, _ in pairs]
            served_ms = [lat for _, (lat, _) in pairs]
            overhead = [lat - model_ms for _, (lat, model_ms) in pairs]
            wall = sum(direct_ms) / 1000
            rows = [["engine called directly", 1, *summary(direct_ms, wall)],
                    ["vlagent serve, 1 client", 1, *summary(served_ms, sum(served_ms) / 1000)]]
            t0 = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(served, range(args.requests)))
            rows.append(["vlagent serve, 8 clients", 8, *summary([r[0] for r in results], time.perf_counter() - t0)])
            stream_ms = []
            for _ in range(args.requests):
                t0 = time.perf_counter()
                with client.stream("POST", f"{serve.url}/v1/chat/completions", json=dict(body, stream=True)) as r:
                    for _ in r.iter_lines():
                        pass
                stream_ms.append((time.perf_counter() - t0) * 1000)
            rows.append(["vlagent serve, streamed, 1 client", 1, *summary(stream_ms, sum(stream_ms) / 1000)])
    finally:
        serve.stop()
        engine.unload()
    print(f"\n## Chat completion with one {image.width}x{image.height} image, {args.tokens} new tokens, "
          f"tiny checkpoint ({args.requests} requests per row; direct and 1-client rows interleaved)\n")
    print(table(["path", "concurrency", "requests/s", "p50 ms", "p95 ms"], rows))
    print(f"\nServer overhead per request at concurrency 1 (latency minus the model time the server reports): "
          f"p50 {pct(overhead, 0.5):.1f} ms, p95 {pct(overhead, 0.95):.1f} ms; served / direct p50: "
          f"{pct(served_ms, 0.5) / pct(direct_ms, 0.5):.2f}")


def summary(latencies_ms: list[float], wall_s: float) -> list[float]:
    return [len(latencies_ms) / wall_s, pct(latencies_ms, 0.5), pct(latencies_ms, 0.95)]


# --- batching: concurrency 1, 4, 8 with dynamic batching on and off ------------------------------
def bench_batching(args, work: Path) -> None:
    import httpx

    from vlagent.samples import photo_like, text_image

    model = tiny_model(work)
    settings = {**MODEL_SETTINGS, "vlm.model": str(model), "vlm.max_new_tokens": args.tokens}
    images = [data_url(text_image([f"Order {i:04d}", f"Total {i}.50"], font_size=22) if i % 2 else
                       photo_like(224, 168, seed=i)) for i in range(16)]

    def body(i: int) -> dict:
        return {"model": "vlagent", "max_tokens": args.tokens, "temperature": 0,
                "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": images[i % 16]}},
                                                          {"type": "text", "text": f"Question {i}: what is it?"}]}]}

    configs = (("on (--max-num-seqs 8)", "8"), ("off (--max-num-seqs 1)", "1"))
    serves = {seqs: Serve(work / f"batching-{seqs}", settings, ("--max-num-seqs", seqs, "--no-enable-prefix-caching"))
              for _, seqs in configs}
    lat: dict[tuple[str, int], list[float]] = {}
    rates: dict[tuple[str, int], list[float]] = {}
    token_rates: dict[tuple[str, int], list[float]] = {}  # completion tokens the server reported, per second
    try:
        clients = {seqs: httpx.Client(timeout=600, headers=serve.headers,
                                      limits=httpx.Limits(max_connections=16, max_keepalive_connections=16))
                   for seqs, serve in serves.items()}

        def one(seqs: str, i: int) -> tuple[float, int]:
            t0 = time.perf_counter()
            r = clients[seqs].post(f"{serves[seqs].url}/v1/chat/completions", json=body(i))
            if r.status_code != 200:
                raise SystemExit(f"vlagent serve answered {r.status_code}: {r.text}")
            return (time.perf_counter() - t0) * 1000, r.json()["usage"]["completion_tokens"]

        for seqs in serves:
            for i in range(8):
                one(seqs, i)  # warm: every code path, every image size once
        # Rounds of every cell in turn, so that both configurations see the same load on a shared
        # machine; the table shows each cell's median round.
        for _ in range(args.rounds):
            for conc in (1, 4, 8):
                for _, seqs in configs:
                    n = args.requests if conc > 1 else max(8, args.requests // 2)
                    per_client = [list(range(c, n, conc)) for c in range(conc)]
                    t0 = time.perf_counter()
                    with ThreadPoolExecutor(conc) as pool:
                        done = [r for part in pool.map(lambda ids: [one(seqs, i) for i in ids], per_client)
                                for r in part]
                    elapsed = time.perf_counter() - t0
                    rates.setdefault((seqs, conc), []).append(len(done) / elapsed)
                    token_rates.setdefault((seqs, conc), []).append(sum(tokens for _, tokens in done) / elapsed)
                    lat.setdefault((seqs, conc), []).extend(ms for ms, _ in done)
        for c in clients.values():
            c.close()
    finally:
        for serve in serves.values():
            serve.stop()
    rows = []
    for label, seqs in configs:
        for conc in (1, 4, 8):
            rate = statistics.median(rates[(seqs, conc)])
            rows.append([label, conc, len(lat[(seqs, conc)]), rate, statistics.median(token_rates[(seqs, conc)]),
                         pct(lat[(seqs, conc)], 0.5),
                         pct(lat[(seqs, conc)], 0.95)])
    print(f"\n## Dynamic batching: chat completions with one image (224x168 or a text image), up to {args.tokens} new "
          f"tokens each (tokens/s: as the server counted them), closed-loop clients, tiny checkpoint "
          f"({args.rounds} rounds, median round shown)\n")
    print(table(["batching", "concurrency", "requests", "requests/s", "tokens/s", "p50 ms", "p95 ms"], rows))
    for _, seqs in configs:
        ratio = statistics.median(rates[(seqs, 8)]) / statistics.median(rates[(seqs, 1)])
        print(f"throughput at 8 / at 1 with --max-num-seqs {seqs}: {ratio:.2f}x")


# --- remote: a backlog through the openai backend -------------------------------------------
def backlog(work: Path, n: int, remote: dict, concurrency: int, tag: str) -> tuple[float, dict]:
    """Describe ``n`` fresh images through the remote backend as the worker would; (images/s, a timing)."""
    from vlagent.home import Home
    from vlagent.index.queue import PRIO_BACKLOG, new_worker_id
    from vlagent.index.store import Index
    from vlagent.ingest.pipeline import Ingestor
    from vlagent.jobs.build import build_runner
    from vlagent.samples import photo_like, text_image

    home = Home(work / f"client-{tag}-{concurrency}").ensure()
    settings = settings_with({**remote, "vlm.backend": "openai", "vlm.openai_concurrency": concurrency,
                              "vlm.batch_size": 4, "ocr.enabled": False})
    index = Index.open(home)
    try:
        ingestor = Ingestor(index, settings, home)
        for i in range(n):
            img = text_image([f"Receipt {i:03d}", "Total 12.50"], font_size=24) if i % 2 else photo_like(
                480, 360, seed=i)
            buf = io.BytesIO()
            img.save(buf, "PNG")
            ingestor.ingest_bytes(buf.getvalue(), source="import", priority=PRIO_BACKLOG, steps=["describe"])
        runner = build_runner(index, settings, home, worker_id=new_worker_id())
        t0 = time.perf_counter()
        done = runner.run_until_empty(["describe"])
        wall = time.perf_counter() - t0
        rows = index.query("SELECT timings FROM results WHERE kind = 'description'")
        if len(rows) != n:
            errors = {r["error"] for r in index.query("SELECT error FROM jobs WHERE state != 'done'")}
            raise SystemExit(f"{n - len(rows)} of {done} images were not described: {'; '.join(map(str, errors))}")
        t = [json.loads(r["timings"]) for r in rows]
        return n / wall, {"upload_kb": statistics.median(x["upload_bytes"] for x in t) / 1024,
                          "request_ms": statistics.median(x["request_ms"] for x in t)}
    finally:
        index.close()


class Delayed(BaseHTTPRequestHandler):
    """A stand-in remote that answers every request after a fixed delay, all in parallel."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        self._json({"object": "list", "data": [{"id": "remote-vl", "object": "model"}]})

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(self.server.delay_s)
        self._json({"object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "a described image"}}],
                    "usage": {"prompt_tokens": 300, "completion_tokens": 4, "total_tokens": 304}})

    def _json(self, obj):
        raw = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def bench_remote(args, work: Path) -> None:
    model = tiny_model(work)
    serve = Serve(work / "remote-home", {**MODEL_SETTINGS, "vlm.model": str(model),
                                         "vlm.max_new_tokens": args.tokens, "ocr.enabled": False})
    rows = []
    try:
        remote = {"vlm.openai_base_url": serve.url + "/v1", "vlm.openai_model": "vlagent",
                  "vlm.openai_api_key": serve.token, "vlm.max_new_tokens": args.tokens}
        backlog(work, 4, remote, 1, "warmup")
        for conc in (1, 4):
            rate, t = backlog(work, args.images, remote, conc, "serve")
            rows.append(["vlagent serve (one worker, tiny model)", conc, rate, t["request_ms"], t["upload_kb"]])
    finally:
        serve.stop()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Delayed)
    httpd.daemon_threads = True
    httpd.delay_s = args.delay_ms / 1000
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        remote = {"vlm.openai_base_url": f"http://127.0.0.1:{httpd.server_address[1]}/v1",
                  "vlm.openai_model": "remote-vl", "vlm.max_new_tokens": args.tokens}
        for conc in (1, 4):
            rate, t = backlog(work, args.images, remote, conc, "delayed")
            rows.append([f"stand-in answering in {args.delay_ms} ms, in parallel", conc, rate, t["request_ms"],
                         t["upload_kb"]])
    finally:
        httpd.shutdown()
    print(f"\n## Backlog of {args.images} images described through the openai backend "
          f"(batch 4, {args.tokens} new tokens)\n")
    print(table(["remote", "concurrency", "images/s", "request ms (p50)", "upload KB (p50)"], rows))
    for i in (0, 2):
        print(f"concurrency 4 / 1 against {rows[i][0]}: {rows[i + 1][2] / rows[i][2]:.2f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=["overhead", "batching", "remote", "all"])
    p.add_argument("--requests", type=int, default=40, help="requests per row (overhead)")
    p.add_argument("--images", type=int, default=24, help="backlog size (remote)")
    p.add_argument("--tokens", type=int, default=8, help="new tokens per answer")
    p.add_argument("--rounds", type=int, default=3, help="rounds of every cell (batching)")
    p.add_argument("--delay-ms", type=int, default=250, help="the stand-in remote's answer time")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="vlagent-bench-api-") as tmp:
        work = Path(tmp)
        if args.what in ("overhead", "all"):
            bench_overhead(args, work)
        if args.what in ("batching", "all"):
            bench_batching(args, work)
        if args.what in ("remote", "all"):
            bench_remote(args, work)


if __name__ == "__main__":
    main()
