"""Exit 0 if the worker loop touched its heartbeat file recently, else 1."""

import os
import sys
import time
from pathlib import Path

HEARTBEAT = Path(os.environ.get("HEARTBEAT_FILE", "/tmp/notifier.heartbeat"))
MAX_AGE = float(os.environ.get("HEARTBEAT_MAX_AGE", "30"))

try:
    age = time.time() - HEARTBEAT.stat().st_mtime
except FileNotFoundError:
    print("no heartbeat yet")
    sys.exit(1)
print(f"heartbeat {age:.1f}s old")
sys.exit(0 if age <= MAX_AGE else 1)
