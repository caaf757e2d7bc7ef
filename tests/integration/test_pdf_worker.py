"""The worker: the same HTML and PDF as this process makes, a fallback when it dies, no process left behind."""

from __future__ import annotations

import pytest

from ketareport.figures import render_figures
from ketareport.pdf_worker import PdfWorker
from ketareport.pipeline import run_analysis
from ketareport.present.build import build_context
from ketareport.render import render_html, render_pdf
from ketareport.report import data_files, pdf_metadata

from ..conftest import DEMO

pytestmark = pytest.mark.slow  # each test starts a worker, which imports WeasyPrint


@pytest.fixture(scope="module")
def job():
    """What `render` gives the worker: context, figures, generation time, the PDF's metadata and files."""
    run = run_analysis(DEMO)
    context = build_context(run)
    return context, render_figures(run), run.provenance.generated_at, pdf_metadata(run, context), data_files(run, None, context)


@pytest.fixture(scope="module")
def in_process(job):
    context, figures, generated_at, metadata, files = job
    html = render_html(context, figures, generated_at)
    return html, render_pdf(html, metadata, files)


def test_the_worker_renders_the_same_documents_as_this_process(job, in_process):
    worker = PdfWorker.start()
    process = worker._process
    assert worker.submit(*job).result() == in_process
    assert process.returncode == 0


def test_a_worker_that_died_leaves_the_documents_to_this_process(job, in_process):
    worker = PdfWorker.start()
    process = worker._process
    process.kill()
    process.wait()
    assert worker.submit(*job).result() == in_process


def test_a_rendering_error_is_raised_here(job):
    context, figures, *rest = job
    without_figure_2 = {key: svg for key, svg in figures.items() if key != "vas"}
    with pytest.raises(TypeError, match="StrictUndefined"):
        PdfWorker.start().submit(context, without_figure_2, *rest).result()


def test_a_worker_whose_job_never_comes_is_stopped():
    worker = PdfWorker.start()
    process = worker._process
    worker.stop()
    assert process.poll() is not None
    worker.stop()  # again: nothing left to stop


def test_a_submitted_job_is_rendered_while_this_process_goes_on(job, in_process):
    worker = PdfWorker.start()
    documents = worker.submit(*job)  # returns at once: the worker renders meanwhile
    worker.stop()  # the job is the worker's now: stopping the handle does not stop its rendering
    assert documents.result() == in_process
    assert documents.result() is documents.result()
