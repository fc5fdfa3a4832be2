from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_health() -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_token() -> None:
    ok = client.post("/auth/token", data={"username": "demo", "password": "demo"})
    assert ok.status_code == 200
    assert ok.json()["token_type"] == "bearer"
    bad = client.post("/auth/token", data={"username": "demo", "password": "nope"})
    assert bad.status_code == 401
