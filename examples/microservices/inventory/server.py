"""Inventory service on the standard library only: GET /health, GET /stock/<sku>."""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STOCK = {"widget": 10, "gadget": 3}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/health":
            self.reply(200, {"status": "ok"})
        elif self.path.startswith("/stock/"):
            sku = self.path.removeprefix("/stock/")
            self.reply(200, {"sku": sku, "available": STOCK.get(sku, 0)})
        else:
            self.reply(404, {"detail": "not found"})

    def reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt: str, *args) -> None:
        if self.path != "/health":  # keep healthchecks out of the log
            super().log_message(fmt, *args)


def make_server(port: int) -> ThreadingHTTPServer:
    return ThreadingHTTPServer(("0.0.0.0", port), Handler)


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8001"))
    print(f"inventory listening on :{port}", flush=True)
    make_server(port).serve_forever()
