from fastapi.testclient import TestClient

from main import app

client = TestClient(app)


def test_health() -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_events_are_counted() -> None:
    client.post("/events", json={"path": "/"})
    client.post("/events", json={"path": "/"})
    assert client.get("/stats").json()["/"] == 2
