import json
import threading
import unittest
import urllib.request

from server import make_server


class InventoryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = make_server(0)
        cls.base = f"http://127.0.0.1:{cls.server.server_address[1]}"
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.shutdown()
        cls.server.server_close()

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.base + path, timeout=5) as resp:
            return json.load(resp)

    def test_health(self) -> None:
        self.assertEqual(self.get("/health"), {"status": "ok"})

    def test_stock(self) -> None:
        self.assertEqual(self.get("/stock/widget")["available"], 10)
        self.assertEqual(self.get("/stock/unknown")["available"], 0)


if __name__ == "__main__":
    unittest.main()
