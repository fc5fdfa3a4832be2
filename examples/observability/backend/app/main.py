"""Backend instrumented with prometheus_client: request count and latency per route."""

import random
import time

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

REQUESTS = Counter("http_requests_total", "HTTP requests.", ["method", "route", "status"])
LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency.", ["route"])

app = FastAPI(title="observability backend")


@app.middleware("http")
async def record_metrics(request: Request, call_next):
    start = time.perf_counter()
    response = await call_next(request)
    route = getattr(request.scope.get("route"), "path", "unmatched")
    if route != "/metrics":
        LATENCY.labels(route).observe(time.perf_counter() - start)
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    return response


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/metrics")
def metrics() -> Response:
    # Default (single-process) registry: run exactly one server worker.
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@app.get("/work")
def work() -> dict[str, float]:
    seconds = random.uniform(0.01, 0.2)
    time.sleep(seconds)
    return {"slept": round(seconds, 3)}
