from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_health() -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_add_task_runs_locally() -> None:
    # Calling the task directly runs it in-process, without a broker.
    from app.tasks import add

    assert add(2, 3) == 5
