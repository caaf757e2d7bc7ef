"""The PDF worker: the same PDF as rendering in this process, a fallback when it dies, no process left behind."""

from __future__ import annotations

import datetime as dt

import pytest

from ketareport.pdf_worker import PdfWorker
from ketareport.render import EmbeddedFile, PdfMetadata, render_pdf

pytestmark = pytest.mark.slow  # each test starts a worker, which imports WeasyPrint

HTML = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Worker</title>'
    '<meta name="dcterms.created" content="2012-03-01T00:00:00+00:00">'
    '<meta name="dcterms.modified" content="2012-03-01T00:00:00+00:00"></head>'
    "<body><h1>Worker</h1><p>One paragraph.</p></body></html>"
)
METADATA = PdfMetadata(subject="A test", created=dt.datetime(2012, 3, 1, tzinfo=dt.timezone.utc))
FILES = (EmbeddedFile("data.csv", b"a,b\n1,2\n", "Data", "Numbers.", "text/csv"),)


@pytest.fixture(scope="module")
def in_process():
    return render_pdf(HTML, METADATA, FILES)


def test_the_worker_renders_the_same_bytes_as_this_process(in_process):
    worker = PdfWorker.start()
    process = worker._process
    assert worker.render_pdf(HTML, METADATA, FILES) == in_process
    assert process.returncode == 0


def test_a_worker_that_died_leaves_the_pdf_to_this_process(in_process):
    worker = PdfWorker.start()
    process = worker._process
    process.kill()
    process.wait()
    assert worker.render_pdf(HTML, METADATA, FILES) == in_process


def test_a_rendering_error_is_raised_here():
    with pytest.raises(ValueError, match="no lang attribute"):
        PdfWorker.start().render_pdf(HTML.replace(' lang="en"', ""), METADATA, FILES)


def test_a_worker_whose_job_never_comes_is_stopped():
    worker = PdfWorker.start()
    process = worker._process
    worker.stop()
    assert process.poll() is not None
    worker.stop()  # again: nothing left to stop
