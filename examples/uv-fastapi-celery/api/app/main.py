"""HTTP API: health, a PostgreSQL round trip, a Celery task round trip and beat's tick count."""

import os

import redis
from fastapi import FastAPI, HTTPException

from app.worker import RESULT_BACKEND, celery_app, multiply

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://app:app@localhost:5432/app")

app = FastAPI(title="uv-fastapi-celery")


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/db")
def database() -> dict[str, str]:
    import psycopg  # lazily: the app and its tests start without a database

    try:
        with psycopg.connect(DATABASE_URL, connect_timeout=3) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS visits (at timestamptz DEFAULT now())")
            conn.execute("INSERT INTO visits DEFAULT VALUES")
            (version,) = conn.execute("SELECT version()").fetchone()
            (visits,) = conn.execute("SELECT count(*) FROM visits").fetchone()
    except psycopg.OperationalError as exc:
        raise HTTPException(status_code=503, detail=f"database unavailable: {exc}") from None
    return {"version": version, "visits": str(visits)}


@app.post("/tasks/multiply", status_code=202)
def enqueue(x: int, y: int) -> dict[str, str]:
    return {"task_id": multiply.delay(x, y).id}


@app.get("/tasks/{task_id}")
def task(task_id: str) -> dict[str, object]:
    result = celery_app.AsyncResult(task_id)
    body: dict[str, object] = {"task_id": task_id, "state": result.state}
    if result.successful():
        body["result"] = result.result
    return body


@app.get("/beat")
def beat() -> dict[str, int]:
    return {"ticks": int(redis.Redis.from_url(RESULT_BACKEND).get("beat:ticks") or 0)}
