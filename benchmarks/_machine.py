"""The machine line every benchmark prints."""
from __future__ import annotations

import os
import platform


def machine() -> str:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"platform {platform.platform()}  cpu {cpu}  cores {os.cpu_count()}  python {platform.python_version()}"
