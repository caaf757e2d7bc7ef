"""bench/run.sh runs and prints its table (its timings are the bench's business, not the test's)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_comparison_bench_runs_at_the_smallest_size(rscript, rmarkdown):
    completed = subprocess.run(["bash", str(REPO / "bench" / "run.sh"), "--repeat", "1", "49"],
                               capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[1].split()[:3] == ["work", "ketareport", "peak"]
    number = r"\d+\.\d\d s +\d+ +\d+\.\d\d s +\d+ +\d+\.\d\d +1"
    assert re.match(rf"analyze 49 patients / 369 infusions +{number} +R script$", lines[3])
    assert re.match(rf"render demo \(ketareport: HTML \+ PDF\) +{number} +R Markdown, HTML only$", lines[4])
