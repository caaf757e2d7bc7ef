"""The PDF made in a second process, which imports WeasyPrint while the first one analyses.

A render spends about a second importing WeasyPrint and setting it up, and
as long importing pandas and SciPy and analysing: on two cores the two can
run at once. ``ketareport render`` starts the worker (:meth:`PdfWorker.start`)
before its own heavy imports; the worker imports WeasyPrint and renders a
small document (WeasyPrint's one-time set-up), then waits for
one job on its stdin (the HTML, the metadata and the attached files,
pickled), renders it with :func:`ketareport.render.render_pdf` and writes
the PDF to its stdout. The PDF is the same bytes the first process would
make. Should the worker be unusable (it could not start, or died), the
first process renders the PDF itself; an error in rendering is re-raised
from there. A worker whose job never comes (the run stopped at validation)
exits when the first process closes its end of the pipe, or is stopped when
that process exits.
"""

from __future__ import annotations

import atexit
import pickle
import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .render import EmbeddedFile, PdfMetadata


class PdfWorker:
    """A second process ready to render one PDF."""

    def __init__(self, process: subprocess.Popen | None):
        self._process = process

    @classmethod
    def start(cls) -> PdfWorker:
        try:
            # -P: the working directory is not put on the module path (a folder there named like a module
            # the worker imports would otherwise be imported instead).
            process = subprocess.Popen([sys.executable, "-P", "-m", __name__], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE)
        except OSError:
            return cls(None)
        worker = cls(process)
        atexit.register(worker.stop)
        return worker

    def render_pdf(self, html: str, metadata: PdfMetadata, embedded_files: tuple[EmbeddedFile, ...]) -> bytes:
        """The PDF, from the worker, else made here."""
        from .render import render_pdf

        process, self._process = self._process, None
        if process is None:
            return render_pdf(html, metadata, embedded_files)
        try:
            output, _ = process.communicate(pickle.dumps((html, metadata, embedded_files)))
            status, value = pickle.loads(output)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError):
            status, value = "failed", None
        finally:
            _stop(process)
        if status == "pdf":
            return value
        # The worker could not render (it died, or rendering raised): render here, where an error is raised
        # with its own traceback.
        return render_pdf(html, metadata, embedded_files)

    def stop(self) -> None:
        """Stop the worker if it still runs (its job will not come)."""
        process, self._process = self._process, None
        if process is not None:
            _stop(process)


def _stop(process: subprocess.Popen) -> None:
    for stream in (process.stdin, process.stdout):
        if stream is not None and not stream.closed:
            stream.close()
    if process.poll() is None:
        process.kill()
    process.wait()


def serve() -> None:
    """The worker: import WeasyPrint, then render the one job on stdin to stdout."""
    import signal

    from .render import import_weasyprint, render_pdf, warm_up_pdf

    # Ctrl-C reaches the whole process group: the first process reports it and stops this one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    import_weasyprint()
    warm_up_pdf()
    try:
        job = pickle.load(sys.stdin.buffer)
    except EOFError:
        return  # no job: the first process stopped before its PDF
    try:
        result = ("pdf", render_pdf(*job))
    except Exception as error:  # reported to the first process, which renders again and raises it there
        result = ("error", repr(error))
    sys.stdout.buffer.write(pickle.dumps(result))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    serve()
