"""``GET /metrics``: the server's counters in Prometheus' text format (prometheus_client).

What a vLLM dashboard shows, under vlagent's names: requests by route and status and their
latency; for generations the end-to-end latency, time to the first token, time waiting for
the model, prompt and generated tokens, batch sizes; and, read when scraped, the requests
running and waiting, the worker's job queue, whether the model is loaded and how long its
load took. Each server has its own registry (several servers can live in one process).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

if TYPE_CHECKING:
    from vlagent.api.service import ApiService

disable_created_metrics()  # no *_created series beside every counter (nobody here reads them)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0)
BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.http_requests = Counter("vlagent_http_requests", "HTTP requests answered, by route, method and status",
                                     ["route", "method", "status"], registry=r)
        self.http_latency = Histogram("vlagent_http_request_duration_seconds",
                                      "HTTP request time, to the last byte of the answer", ["route"],
                                      buckets=LATENCY_BUCKETS, registry=r)
        self.e2e = Histogram("vlagent_e2e_request_latency_seconds", "Generation requests: arrival to the last token",
                             buckets=LATENCY_BUCKETS, registry=r)
        self.ttft = Histogram("vlagent_time_to_first_token_seconds", "Generation requests: arrival to the first token",
                              buckets=LATENCY_BUCKETS, registry=r)
        self.queue_time = Histogram("vlagent_request_queue_time_seconds",
                                    "Generation requests: time waiting for their turn on the model",
                                    buckets=LATENCY_BUCKETS, registry=r)
        self.prompt_tokens = Counter("vlagent_prompt_tokens", "Prompt tokens processed (images included)",
                                     registry=r)
        self.generation_tokens = Counter("vlagent_generation_tokens", "Tokens generated", registry=r)
        self.finished = Counter("vlagent_request_success", "Generations finished, by reason",
                                ["finished_reason"], registry=r)
        self.batch_size = Histogram("vlagent_batch_size", "Generations run together in one batch",
                                    buckets=BATCH_BUCKETS, registry=r)
        self.running = Gauge("vlagent_num_requests_running", "Generations running on the model now", registry=r)
        self.waiting = Gauge("vlagent_num_requests_waiting", "Model requests admitted and waiting for the model",
                             registry=r)
        self.queued_jobs = Gauge("vlagent_worker_queued_jobs", "Background jobs waiting in the worker's queue",
                                 registry=r)
        self.model_loaded = Gauge("vlagent_model_loaded", "1 when the model is in memory", registry=r)
        self.model_loading = Gauge("vlagent_model_loading", "1 while the model is being loaded", registry=r)
        self.model_load_seconds = Gauge("vlagent_model_load_seconds", "How long the last model load took",
                                        registry=r)

    def bind(self, service: ApiService) -> None:
        """Gauges read from the service when scraped."""
        self.running.set_function(lambda: service.scheduler.running)
        self.waiting.set_function(lambda: max(0, service.pending - service.scheduler.running))
        self.queued_jobs.set_function(lambda: service.worker.status.queued or 0)
        self.model_loaded.set_function(lambda: 1 if service.model_loaded() else 0)
        self.model_loading.set_function(lambda: 1 if service.model_state == "loading" else 0)
        self.model_load_seconds.set_function(lambda: service.load_seconds or 0.0)

    def generation(self, g: Any, started: float, first_token: float | None) -> None:
        """One finished generation (a :class:`~vlagent.vlm.base.Generation`)."""
        now = time.monotonic()
        self.e2e.observe(now - started)
        if first_token is not None:
            self.ttft.observe(first_token - started)
        t = g.timings or {}
        if t.get("input_tokens"):
            self.prompt_tokens.inc(int(t["input_tokens"]))
        if t.get("new_tokens"):
            self.generation_tokens.inc(int(t["new_tokens"]))
        self.finished.labels(g.finish_reason or "stop").inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts every HTTP request (refused ones too) and its time to the last byte."""

    def __init__(self, app, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        status = [500]
        done = [False]

        async def sending(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                done[0] = True
                self._record(scope, status[0], t0)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if not done[0]:
                self._record(scope, status[0], t0)

    def _record(self, scope, status: int, t0: float) -> None:
        route = scope.get("route")
        path = getattr(route, "path", None) or "other"
        self.metrics.http_requests.labels(path, scope.get("method", ""), str(status)).inc()
        self.metrics.http_latency.labels(path).observe(time.perf_counter() - t0)
