from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_health() -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_items() -> None:
    assert [item["name"] for item in client.get("/api/items").json()] == ["alpha", "beta"]
