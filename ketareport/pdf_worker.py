"""The HTML and the PDF made in a second process, which prepares while the first one analyses.

A render spends about a second importing WeasyPrint and setting it up, and
as long importing pandas and SciPy and analysing: on two cores the two can
run at once. ``ketareport render`` starts the worker (:meth:`PdfWorker.start`)
before its own heavy imports; the worker imports WeasyPrint, renders a small
document (WeasyPrint's one-time set-up) and compiles the templates, then
waits for one job on its stdin (the report's context, figures and the PDF's
metadata and attached files, pickled), renders the HTML and the PDF with
:mod:`ketareport.render` and writes both to its stdout: the same text and
bytes the first process would make. The first process hands the job over
(:meth:`PdfWorker.submit`) and writes the result files while the worker
renders; it waits for the documents only to write them (:meth:`Documents.result`).
Should the worker be unusable (it could not start, or died), the
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

    def submit(self, context: ReportContext, figures: dict[str, str], generated_at: str, metadata: PdfMetadata,
               embedded_files: tuple[EmbeddedFile, ...]) -> Documents:
        """Hand the worker its job and return at once: the worker renders the HTML and the PDF
        (:func:`ketareport.render.render_html`, :func:`~ketareport.render.render_pdf`) while this process goes
        on (it writes the result files meanwhile); :meth:`Documents.result` waits for them."""
        process, self._process = self._process, None
        return Documents(process, (context, figures, generated_at, metadata, embedded_files))

    def stop(self) -> None:
        """Stop the worker if it still runs (its job will not come)."""
        process, self._process = self._process, None
        if process is not None:
            _stop(process)


class Documents:
    """The HTML and the PDF of one job: being rendered by the worker, or (should the worker be unusable)
    rendered here when asked for."""

    def __init__(self, process: subprocess.Popen | None, job: tuple):
        self._job = job
        self._reply: list[bytes] = []
        self._documents: tuple[str, bytes] | None = None
        self._exchange = None
        if process is not None:
            import threading

            # The job can fill the pipe before the worker reads it, and the reply comes when the PDF is done: a
            # thread waits for both while this process goes on. Should this process exit without asking for
            # the documents (an error while writing), the worker is stopped.
            self._exchange = threading.Thread(target=self._send, args=(process,), daemon=True)
            self._exchange.start()
            atexit.register(_stop, process)

    def _send(self, process: subprocess.Popen) -> None:
        try:
            # Not communicate(): it would also wait for the worker's interpreter to wind down. The worker reads
            # its whole job before it writes, so writing it all and then reading cannot deadlock.
            process.stdin.write(pickle.dumps(self._job))
            process.stdin.close()
            self._reply.append(process.stdout.read())
            process.stdout.close()
            process.wait()  # it exits as soon as its reply is written
        except (OSError, ValueError):
            _stop(process)  # the worker died: the documents are made here

    def result(self) -> tuple[str, bytes]:
        """The HTML and the PDF (:func:`ketareport.render.render_html`, :func:`~ketareport.render.render_pdf`)."""
        if self._documents is None:
            self._documents = self._from_worker() or self._render_here()
        return self._documents

    def _from_worker(self) -> tuple[str, bytes] | None:
        if self._exchange is None:
            return None
        self._exchange.join()
        try:
            status, value = pickle.loads(self._reply[0])
        except (IndexError, EOFError, pickle.UnpicklingError, ValueError):
            return None
        return value if status == "documents" else None

    def _render_here(self) -> tuple[str, bytes]:
        # No worker, or it could not render (it died, or rendering raised): render here, where an error is
        # raised with its own traceback.
        from .render import render_html, render_pdf

        context, figures, generated_at, metadata, embedded_files = self._job
        html = render_html(context, figures, generated_at)
        return html, render_pdf(html, metadata, embedded_files)


def _stop(process: subprocess.Popen) -> None:
    for stream in (process.stdin, process.stdout):
        if stream is not None and not stream.closed:
            stream.close()
    if process.poll() is None:
        process.kill()
    process.wait()


def serve() -> None:
    """The worker: import WeasyPrint and prepare, then render the one job on stdin to stdout."""
    import gc
    import os
    import signal

    from .render import import_weasyprint, render_html, render_pdf, warm_up

    # Ctrl-C reaches the whole process group: the first process reports it and stops this one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One job, then os._exit: the cyclic collector would only look for garbage that the exit discards anyway
    # (some 350 collections in an import and a render of the demo, 0.1 s of CPU).
    gc.disable()
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
    # Done: exit without the interpreter's teardown of WeasyPrint's objects (0.1-0.3 s of CPU that the first
    # process, still writing, would share the machine with); closing stdout ends the first process's read.
    os._exit(0)


if __name__ == "__main__":
    serve()
