"""Notifier worker (standard library only): polls the orders API for new orders and
"sends" a notification for each (a log line). Touches a heartbeat file after every
successful poll, so `healthcheck.py` reports unhealthy when the loop is stuck or the
orders API has been unreachable for a while."""

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

ORDERS_URL = os.environ.get("ORDERS_URL", "http://localhost:8000")
INTERVAL = float(os.environ.get("POLL_INTERVAL", "5"))
HEARTBEAT = Path(os.environ.get("HEARTBEAT_FILE", "/tmp/notifier.heartbeat"))


def poll(after: int) -> int:
    with urllib.request.urlopen(f"{ORDERS_URL}/orders?after={after}", timeout=5) as resp:
        for order in json.load(resp):
            print(f"notify: order {order['id']}: {order['quantity']} x {order['sku']}", flush=True)
            after = max(after, order["id"])
    return after


def main() -> None:
    last_seen = 0
    print(f"notifier polling {ORDERS_URL} every {INTERVAL}s", flush=True)
    while True:
        try:
            last_seen = poll(last_seen)
            HEARTBEAT.touch()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            print(f"poll failed: {exc}", flush=True)
        time.sleep(INTERVAL)


if __name__ == "__main__":
    main()
