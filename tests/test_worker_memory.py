"""An app worker does not load the heavy libraries that only a few requests need (NumPy and SciPy
for the disclosure audit, fpdf for PDFs, openpyxl for Excel): together some 100 MB of every
worker's memory (issue 19: workers under 200 MB, of which an Argon2id verification takes 64 MiB)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import key_config

HEAVY = ("numpy", "scipy", "fpdf", "openpyxl", "PIL")

SCRIPT = """
import json, sys
from mda import create_app
config = json.loads(sys.argv[1])
app = create_app(config)
client = app.test_client()
assert client.get("/inloggen").status_code == 200
assert client.get("/health/live").status_code == 200
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(sys.argv[2])))))
"""


def test_an_app_worker_starts_and_serves_without_the_heavy_libraries(tmp_path: Path) -> None:
    import json
    config = {"MODE": "test", "SECRET_KEY": "memory-test-" + "x" * 32,
              "DATABASE_URL": f"sqlite:///{tmp_path / 'memory.sqlite'}", **key_config()}
    result = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(config), json.dumps(HEAVY)],
                            capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parents[1],
                            env={"PATH": "/usr/bin:/bin", "MDA_INSTANCE_PATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
