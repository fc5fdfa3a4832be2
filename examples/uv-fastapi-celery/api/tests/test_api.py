"""Runs offline in the test stage: no database, broker or network."""

from fastapi.testclient import TestClient

from app.main import app
from app.worker import celery_app, multiply


def test_health() -> None:
    response = TestClient(app).get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_the_task_multiplies() -> None:
    assert multiply.run(6, 7) == 42


def test_beat_schedules_the_tick() -> None:
    assert celery_app.conf.beat_schedule["tick"]["task"] == "app.worker.tick"
