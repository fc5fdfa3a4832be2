"""Platform analytics: collects page-view events in memory (module path `main:app`)."""

from collections import Counter

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI(title="platform analytics")
views: Counter[str] = Counter()


class Event(BaseModel):
    path: str


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/events", status_code=202)
def record(event: Event) -> dict[str, int]:
    views[event.path] += 1
    return {"count": views[event.path]}


@app.get("/stats")
def stats() -> dict[str, int]:
    return dict(views)
