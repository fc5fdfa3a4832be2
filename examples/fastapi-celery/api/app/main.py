"""HTTP API: a health endpoint, a database check, and a Celery task round trip."""

import os

from fastapi import FastAPI, HTTPException

from app.tasks import add, celery_app

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres:postgres@localhost:5432/postgres")

app = FastAPI(title="fastapi-celery example")


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/tasks/add", status_code=202)
def enqueue_add(x: int, y: int) -> dict[str, str]:
    result = add.delay(x, y)
    return {"task_id": result.id}


@app.get("/tasks/{task_id}")
def task_status(task_id: str) -> dict[str, object]:
    result = celery_app.AsyncResult(task_id)
    body: dict[str, object] = {"task_id": task_id, "state": result.state}
    if result.successful():
        body["result"] = result.result
    return body


@app.get("/db")
def db_version() -> dict[str, str]:
    import psycopg  # imported lazily so the app (and its tests) start without a database

    try:
        with psycopg.connect(DATABASE_URL, connect_timeout=3) as conn:
            (version,) = conn.execute("SELECT version()").fetchone()
    except psycopg.OperationalError as exc:
        raise HTTPException(status_code=503, detail=f"database unavailable: {exc}") from None
    return {"version": version}
