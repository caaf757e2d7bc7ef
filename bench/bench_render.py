"""Time each stage of `ketareport render` on the demo and on a 3,000-patient dataset.

Usage: .venv/bin/python bench/bench_render.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(label, action):
    start = time.perf_counter()
    value = action()
    print(f"  {label:<26} {time.perf_counter() - start:7.2f} s")
    return value


def bench(dataset: Path) -> None:
    import datetime as dt

    from ketareport.figures import render_figures, vas_display
    from ketareport.pipeline import run_analysis
    from ketareport.present.build import build_context
    from ketareport.render import PdfMetadata, embedded_fonts, render_html, render_pdf
    from ketareport.report import data_files

    run = timed("analysis", lambda: run_analysis(dataset))
    cohort = run.results.cohort
    display = vas_display(cohort.n_index_analyzed, cohort.n_comparison_analyzed)  # as `ketareport render` chooses
    figures = timed(f"figures (Figure 2: {display})", lambda: render_figures(run, vas_display=display))
    context = timed("context", lambda: build_context(run, vas_display=display))
    timed("font subsets", embedded_fonts)  # from the cache after the first render on a machine
    html = timed("HTML", lambda: render_html(context, figures, run.provenance.generated_at))
    metadata = PdfMetadata(subject=context.values["text"]["objective"],
                           created=dt.datetime.fromisoformat(run.provenance.generated_at))
    pdf = timed("PDF (PDF/A-3a, tagged)", lambda: render_pdf(html, metadata, data_files(run, None, context)))
    print(f"  HTML {len(html.encode()) / 1024:.0f} kB, PDF {len(pdf) / 1024:.0f} kB")


def cold_font_subsets() -> None:
    """The first render on a machine subsets the fonts (the cache is empty): time that once."""
    import os

    from ketareport.render import embedded_fonts

    with tempfile.TemporaryDirectory() as cache:
        previous = os.environ.get("XDG_CACHE_HOME")
        os.environ["XDG_CACHE_HOME"] = cache
        embedded_fonts.cache_clear()
        try:
            timed("font subsets, empty cache", embedded_fonts)
        finally:
            embedded_fonts.cache_clear()
            if previous is None:
                del os.environ["XDG_CACHE_HOME"]
            else:
                os.environ["XDG_CACHE_HOME"] = previous


def main() -> None:
    from ketareport.demo import write_demo

    print("first render on a machine")
    cold_font_subsets()
    print("demo dataset")
    bench(REPO / "data" / "demo")
    with tempfile.TemporaryDirectory() as folder:
        write_demo(Path(folder), patients=3000)
        print("generated dataset, 3000 patients")
        bench(Path(folder))


if __name__ == "__main__":
    main()
