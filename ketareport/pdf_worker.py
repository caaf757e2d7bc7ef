"""The HTML and the PDF made in a second process, which prepares while the first one analyses.

A render spends about a second importing WeasyPrint and setting it up, and
as long importing pandas and SciPy and analysing: on two cores the two can
run at once. ``ketareport render`` starts the worker (:meth:`PdfWorker.start`)
before its own heavy imports; the worker imports WeasyPrint, renders a small
document (WeasyPrint's one-time set-up) and compiles the templates, then
waits for one job on its stdin (the report's context, figures and the PDF's
metadata and attached files, pickled), renders the HTML and the PDF with
:mod:`ketareport.render` and writes both to its stdout: the same text and
bytes the first process would make. Should the worker be unusable (it could not start, or died), the
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
    from .present.context import ReportContext
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

    def render(self, context: ReportContext, figures: dict[str, str], generated_at: str, metadata: PdfMetadata,
               embedded_files: tuple[EmbeddedFile, ...]) -> tuple[str, bytes]:
        """The HTML and the PDF (:func:`ketareport.render.render_html`, :func:`~ketareport.render.render_pdf`),
        from the worker, else made here."""
        from .render import render_html, render_pdf

        process, self._process = self._process, None
        if process is not None:
            try:
                output, _ = process.communicate(pickle.dumps((context, figures, generated_at, metadata, embedded_files)))
                status, value = pickle.loads(output)
            except (OSError, EOFError, pickle.UnpicklingError, ValueError):
                status, value = "failed", None
            finally:
                _stop(process)
            if status == "documents":
                return value
        # No worker, or it could not render (it died, or rendering raised): render here, where an error is
        # raised with its own traceback.
        html = render_html(context, figures, generated_at)
        return html, render_pdf(html, metadata, embedded_files)

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
    """The worker: import WeasyPrint and prepare, then render the one job on stdin to stdout."""
    import signal

    from .render import import_weasyprint, render_html, render_pdf, warm_up

    # Ctrl-C reaches the whole process group: the first process reports it and stops this one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import_weasyprint()
    warm_up()
    try:
        context, figures, generated_at, metadata, embedded_files = pickle.load(sys.stdin.buffer)
    except EOFError:
        return  # no job: the first process stopped before its documents
    try:
        html = render_html(context, figures, generated_at)
        result = ("documents", (html, render_pdf(html, metadata, embedded_files)))
    except Exception as error:  # reported to the first process, which renders again and raises it there
        result = ("error", repr(error))
    sys.stdout.buffer.write(pickle.dumps(result))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    serve()
