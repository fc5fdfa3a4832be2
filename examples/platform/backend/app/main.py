"""Platform backend: the product API the frontend talks to."""

import os

from fastapi import FastAPI

AUTH_URL = os.environ.get("AUTH_URL", "http://localhost:8081")

app = FastAPI(title="platform backend")

ITEMS = [
    {"id": 1, "name": "alpha"},
    {"id": 2, "name": "beta"},
]


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/items")
def list_items() -> list[dict[str, object]]:
    return ITEMS


@app.get("/api/config")
def config() -> dict[str, str]:
    return {"auth_url": AUTH_URL}
