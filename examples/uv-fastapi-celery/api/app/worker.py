"""The Celery application: Redis is the broker and the result store; beat schedules `tick`."""

import os

import redis
from celery import Celery

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0")
RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", BROKER_URL)
TICK_SECONDS = float(os.environ.get("TICK_SECONDS", "2"))

celery_app = Celery("app", broker=BROKER_URL, backend=RESULT_BACKEND)
celery_app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    broker_connection_retry_on_startup=True,
    beat_schedule={"tick": {"task": "app.worker.tick", "schedule": TICK_SECONDS}},
    beat_sync_every=1,  # beat writes its schedule file after every tick: its healthcheck reads the file's age
)


@celery_app.task(name="app.worker.multiply")
def multiply(x: int, y: int) -> int:
    return x * y


@celery_app.task(name="app.worker.tick")
def tick() -> int:
    """Counts beat's ticks in Redis, so that the API can show beat is alive."""
    return int(redis.Redis.from_url(RESULT_BACKEND).incr("beat:ticks"))
