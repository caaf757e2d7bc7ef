"""Time the demo generator at several sizes: generate the tables, then write the files.

Usage: .venv/bin/python bench/bench_demo.py

write_demo writes the CSV files and README (plus demo.RData and study.yml
for the 49-patient demo only: demo.RData is off by default at other sizes).
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
        written = write_demo(Path(folder), patients=patients)
        elapsed = time.perf_counter() - start
    files = ", ".join(sorted(path.name for path in written))
    print(f"{patients:>7} patients {len(infusions):>7} infusions: generate_demo {generated:5.2f} s, "
          f"write_demo {elapsed:5.2f} s ({files})")
