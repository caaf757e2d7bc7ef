"""Time `quarto render` of the demo's Quarto project: the manuscript (HTML and Typst PDF), the R template
(knitr) and the whole project, best of three each, after one untimed warm-up render.

Usage: PATH=/path/to/quarto/bin:$PATH .venv/bin/python bench/bench_quarto.py
(`bash ../shared/quarto/install.sh` installs Quarto into ~/.cache/quarto-real.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ketareport import report
from ketareport.output import StagedOutput
from ketareport.pipeline import run_analysis

REPO = Path(__file__).resolve().parents[1]
RUNS = 3


def render(project: Path, *documents: str) -> float:
    start = time.perf_counter()
    subprocess.run(["quarto", "render", *documents], cwd=project, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    if shutil.which("quarto") is None:
        sys.exit("quarto is not on the PATH (bash ../shared/quarto/install.sh installs it)")
    version = subprocess.run(["quarto", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "demo"
        run = run_analysis(REPO / "data" / "demo")
        with StagedOutput(out) as staged:
            report.write(report.build(run, pdf=False), staged, quarto=True)
            staged.publish()
        project = out / "quarto"
        render(project, "templates/manuscript.qmd")  # warm-up: Deno's module cache, fonts
        print(f"quarto {version}, demo project, best of {RUNS}:")
        for label, documents in (("manuscript.qmd (HTML + PDF)", ["templates/manuscript.qmd"]),
                                 ("manuscript.qmd, HTML only", ["templates/manuscript.qmd", "--to", "html"]),
                                 ("manuscript.qmd, Typst PDF only", ["templates/manuscript.qmd", "--to", "typst"]),
                                 ("results-r.qmd (knitr, HTML)", ["templates/results-r.qmd", "--to", "html"]),
                                 ("whole project", [])):
            best = min(render(project, *documents) for _ in range(RUNS))
            print(f"  {label:<32} {best:6.1f} s")


if __name__ == "__main__":
    main()
