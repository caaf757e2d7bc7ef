"""Time the demo generator (generate, then write) at several sizes.

Usage: .venv/bin/python bench/bench_demo.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from ketareport.demo import generate_demo, write_demo

for patients in (49, 10_000, 100_000):
    start = time.perf_counter()
    _, infusions = generate_demo(patients)
    generated = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        write_demo(Path(folder), patients=patients)
        written = time.perf_counter() - start
    print(f"{patients:>7} patients {len(infusions):>7} infusions: generate {generated:6.2f} s, generate+write CSV {written:6.2f} s")
