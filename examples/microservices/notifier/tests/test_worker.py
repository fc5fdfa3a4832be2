import io
import json
import unittest
from contextlib import redirect_stdout
from unittest import mock

import worker


class PollTest(unittest.TestCase):
    def test_poll_reports_new_orders_and_advances(self) -> None:
        body = io.BytesIO(json.dumps([{"id": 3, "sku": "widget", "quantity": 2}]).encode())
        with mock.patch("urllib.request.urlopen", return_value=body), redirect_stdout(io.StringIO()) as out:
            self.assertEqual(worker.poll(0), 3)
        self.assertIn("order 3: 2 x widget", out.getvalue())


if __name__ == "__main__":
    unittest.main()
