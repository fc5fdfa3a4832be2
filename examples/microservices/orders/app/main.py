"""Orders API: checks stock with the inventory service, stores orders in PostgreSQL
and publishes each new order id on Redis."""

import json
import os
import urllib.request

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres:postgres@localhost:5432/orders")
REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
INVENTORY_URL = os.environ.get("INVENTORY_URL", "http://localhost:8001")

app = FastAPI(title="orders")


class NewOrder(BaseModel):
    sku: str
    quantity: int = Field(gt=0)


def db():
    import psycopg  # lazy: /health and the tests need no database

    conn = psycopg.connect(DATABASE_URL, autocommit=True)
    conn.execute("CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, sku text, quantity int)")
    return conn


def in_stock(sku: str) -> int:
    with urllib.request.urlopen(f"{INVENTORY_URL}/stock/{sku}", timeout=3) as resp:
        return json.load(resp)["available"]


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/orders", status_code=201)
def create_order(order: NewOrder) -> dict[str, object]:
    if in_stock(order.sku) < order.quantity:
        raise HTTPException(status_code=409, detail="not enough stock")
    with db() as conn:
        (order_id,) = conn.execute(
            "INSERT INTO orders (sku, quantity) VALUES (%s, %s) RETURNING id", (order.sku, order.quantity)
        ).fetchone()
    import redis

    redis.Redis.from_url(REDIS_URL).rpush("orders:new", order_id)
    return {"id": order_id, **order.model_dump()}


@app.get("/orders")
def list_orders(after: int = 0) -> list[dict[str, object]]:
    with db() as conn:
        rows = conn.execute("SELECT id, sku, quantity FROM orders WHERE id > %s ORDER BY id", (after,)).fetchall()
    return [{"id": i, "sku": s, "quantity": q} for i, s, q in rows]
