"""Where the instance folder is: beside the package in a checkout, or MDA_INSTANCE_PATH."""
from __future__ import annotations

import os
from pathlib import Path


def instance_path() -> Path:
    configured = os.environ.get("MDA_INSTANCE_PATH")
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "instance"
