from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_health() -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_rejects_bad_quantity() -> None:
    assert client.post("/orders", json={"sku": "widget", "quantity": 0}).status_code == 422
