"""Time each stage of `ketareport render` on the demo and on a 3,000-patient dataset.

Usage: .venv/bin/python bench/bench_render.py [--repeat K]

Each dataset is rendered in a new process, as `ketareport render` renders
it: the worker (ketareport/pdf_worker.py) is started first and imports and
sets up WeasyPrint while this process analyses; "HTML and PDF, from the
worker" is the wait for both documents once the figures are drawn, the step
a user meets. The same documents are then made again in this process,
where WeasyPrint's import and the one-time set-up of a process's first PDF
(hyphenation patterns, fontconfig, stylesheets) are paid in full: "PDF in
this process (first)".
Times are wall-clock; with ``--repeat K`` each dataset gets K new processes
and every line shows the median.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def stages(dataset: Path) -> dict[str, float]:
    """Seconds per stage of one render of ``dataset`` in this (new) process, and the documents' sizes in kB."""
    times: dict[str, float] = {}

    def timed(label, action):
        start = time.perf_counter()
        value = action()
        times[label] = time.perf_counter() - start
        return value

    from ketareport.pdf_worker import PdfWorker

    worker = PdfWorker.start()  # as `ketareport render` does, before the heavy imports
    from ketareport.figures import render_figures, vas_display
    from ketareport.pipeline import run_analysis
    from ketareport.present.build import build_context
    from ketareport.render import embedded_fonts, import_weasyprint, render_html, render_pdf
    from ketareport.report import data_files, pdf_metadata

    run = timed("analysis", lambda: run_analysis(dataset))
    cohort = run.results.cohort
    display = vas_display(cohort.n_index_analyzed, cohort.n_comparison_analyzed)  # as `ketareport render` chooses
    figures = timed(f"figures (Figure 2: {display})", lambda: render_figures(run, vas_display=display))
    context = timed("context", lambda: build_context(run, vas_display=display))
    timed("font subsets", embedded_fonts)  # from the cache after the first render on a machine
    metadata = pdf_metadata(run, context)
    files = data_files(run, None, context)
    html, pdf = timed("HTML and PDF, from the worker",
                      lambda: worker.submit(context, figures, run.provenance.generated_at, metadata, files).result())
    here = timed("HTML in this process", lambda: render_html(context, figures, run.provenance.generated_at))
    timed("import WeasyPrint (this process)", import_weasyprint)
    if (here, timed("PDF in this process (first)", lambda: render_pdf(here, metadata, files))) != (html, pdf):
        raise AssertionError("the worker's documents differ from this process's")
    times["HTML kB"] = len(html.encode()) / 1024
    times["PDF kB"] = len(pdf) / 1024
    return times


def cold_font_subsets() -> None:
    """The first render on a machine subsets the fonts (the cache is empty): time that once."""
    import os

    from ketareport.render import embedded_fonts, font_subsets

    previous = os.environ.get("XDG_CACHE_HOME")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["XDG_CACHE_HOME"] = cache
        try:
            start = time.perf_counter()
            embedded_fonts()
            print(f"  {'font subsets, empty cache':<34} {time.perf_counter() - start:7.2f} s")
        finally:
            font_subsets.cache_clear()
            embedded_fonts.cache_clear()
            if previous is None:
                del os.environ["XDG_CACHE_HOME"]
            else:
                os.environ["XDG_CACHE_HOME"] = previous


def report(label: str, dataset: Path, repeat: int) -> None:
    runs = []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, __file__, "--stages", str(dataset)], capture_output=True, text=True,
                              check=True)
        runs.append(json.loads(done.stdout.splitlines()[-1]))
    print(label + (f" (median of {repeat} processes)" if repeat > 1 else ""))
    for stage in runs[0]:
        value = statistics.median(run[stage] for run in runs)
        print(f"  {stage:<34} {value:7.0f} kB" if stage.endswith("kB") else f"  {stage:<34} {value:7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="new processes per dataset (median)")
    parser.add_argument("--stages", type=Path, help=argparse.SUPPRESS)  # one render in this process, as JSON
    options = parser.parse_args()
    if options.stages is not None:
        print(json.dumps(stages(options.stages)))
        return
    from ketareport.demo import write_demo

    print("first render on a machine")
    cold_font_subsets()
    report("demo dataset", REPO / "data" / "demo", options.repeat)
    with tempfile.TemporaryDirectory() as folder:
        write_demo(Path(folder), patients=3000)
        report("generated dataset, 3000 patients", Path(folder), options.repeat)


if __name__ == "__main__":
    main()
