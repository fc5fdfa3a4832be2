"""Per-example checks that the running apps are real: each proves one path through the
stack that a healthcheck alone does not (worker <-> Redis, API <-> PostgreSQL, proxy ->
backend, service -> service). Requests go only to the stack's own containers."""

from __future__ import annotations

import json
import urllib.parse
from typing import Callable

from tests.e2e.engine import EngineError, Stack, eventually, http_get


def _json(stack: Stack, service: str, port: int, path: str, *, data: dict | None = None, form: dict | None = None, expect: int = 200):  # noqa: ANN202
    url = f"http://{stack.ip(service)}:{port}{path}"
    body, headers = None, {}
    if data is not None:
        body, headers = json.dumps(data).encode(), {"Content-Type": "application/json"}
    elif form is not None:
        body, headers = urllib.parse.urlencode(form).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    status, raw = http_get(url, data=body, headers=headers)
    if status != expect:
        raise EngineError(f"{'POST' if body else 'GET'} {url}: status {status}, expected {expect}: {raw[:300]!r}")
    return json.loads(raw) if raw.strip().startswith((b"{", b"[")) else raw


def fastapi_celery(stack: Stack) -> None:
    version = _json(stack, "api", 8000, "/db")["version"]
    assert "PostgreSQL" in version, version
    if "worker" not in stack.containers():
        return
    assert _task_round_trip(stack, "/tasks/add?x=2&y=3") == 5


def _task_round_trip(stack: Stack, enqueue: str) -> object:
    """POST ``enqueue`` on the api, then the task's result once the worker has run it."""
    task = _json(stack, "api", 8000, enqueue, data={}, expect=202)["task_id"]

    def done() -> dict | None:
        body = _json(stack, "api", 8000, f"/tasks/{task}")
        return body if body["state"] == "SUCCESS" else None

    return eventually(done, timeout=30, what="celery task round trip through redis")["result"]


def microservices(stack: Stack) -> None:
    order = _json(stack, "orders", 8000, "/orders", data={"sku": "widget", "quantity": 2}, expect=201)
    assert order["sku"] == "widget", order
    _json(stack, "orders", 8000, "/orders", data={"sku": "gadget", "quantity": 99}, expect=409)  # inventory says no
    # The notifier polls orders every POLL_INTERVAL (5 s) and logs each new order.
    eventually(lambda: f"notify: order {order['id']}:" in stack.logs("notifier"), timeout=30, what="notifier saw the order")


def observability(stack: Stack) -> None:
    # Through the proxy (published on the host): nginx -> backend over the compose network.
    port = _published(stack, "proxy", 8080)
    status, body = http_get(f"http://127.0.0.1:{port}/health")
    assert status == 200 and json.loads(body) == {"status": "ok"}, (status, body)
    status, _ = http_get(f"http://127.0.0.1:{port}/metrics")
    assert status == 404, "the proxy must not expose /metrics"
    metrics = _json(stack, "backend", 8000, "/metrics")
    assert b"http_requests_total" in metrics
    if "prometheus" in stack.containers():

        def scraped() -> bool:
            targets = _json(stack, "prometheus", 9090, "/api/v1/targets")["data"]["activeTargets"]
            return any(t["labels"]["job"] == "backend" and t["health"] == "up" for t in targets)

        eventually(scraped, timeout=40, interval=2, what="prometheus scraped the backend")


def platform(stack: Stack) -> None:
    html = _json(stack, "frontend", 3000, "/")
    assert b"<h1>platform</h1>" in html, html[:200]
    assert _json(stack, "backend", 8000, "/api/items")[0]["name"] == "alpha"
    token = _json(stack, "auth", 8081, "/auth/token", form={"username": "demo", "password": "demo"})
    assert token["token_type"] == "bearer"
    _json(stack, "auth", 8081, "/auth/token", form={"username": "demo", "password": "nope"}, expect=401)
    assert _json(stack, "analytics", 8002, "/events", data={"path": "/"}, expect=202)["count"] == 1


def _published(stack: Stack, service: str, target: int) -> int:
    out = stack.compose("port", service, str(target), timeout=30).stdout.strip()
    return int(out.rsplit(":", 1)[1])


def uv_fastapi_celery(stack: Stack) -> None:
    body = _json(stack, "api", 8000, "/db")
    assert "PostgreSQL" in body["version"] and int(body["visits"]) >= 1, body
    # The OCI labels of the uv-built prod image, and its code owned by root.
    labels = stack.inspect("api")["Config"]["Labels"]
    assert labels["org.opencontainers.image.title"] == "api" and labels["org.opencontainers.image.source"].startswith("https://"), labels
    assert "denied" in stack.exec("api", "sh", "-c", "touch /app/app/main.py 2>/dev/null || echo denied")
    if "worker" not in stack.containers():
        return
    assert _task_round_trip(stack, "/tasks/multiply?x=6&y=7") == 42
    # beat schedules `tick` every 2 s; the worker runs it and counts in Redis. beat writes its
    # schedule into the one directory the app user owns.
    first = _json(stack, "api", 8000, "/beat")["ticks"]
    eventually(lambda: _json(stack, "api", 8000, "/beat")["ticks"] > first, timeout=30, what="beat ticks reach the worker")
    assert "beat-schedule" in stack.exec("beat", "ls", "/var/lib/celery")


SMOKE: dict[str, Callable[[Stack], None]] = {
    "fastapi-celery": fastapi_celery,
    "microservices": microservices,
    "observability": observability,
    "platform": platform,
    "uv-fastapi-celery": uv_fastapi_celery,
}
