"""The command line's shared parts: progress, options, and errors as messages and exit codes.

:class:`KetareportGroup` is the group every ``ketareport`` command belongs
to (:mod:`ketareport.cli`): it gives each command ``--debug`` and
``--quiet`` (they work before or after the command's name) and catches the
engine's exceptions once, for every command: a message on stderr and the
exception's ``exit_code`` (:mod:`ketareport.errors`); no traceback unless
``--debug``. :func:`progress` is the hook the commands pass to the engine.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import click

from .errors import EXIT_INVALID_INPUT, EXIT_UNEXPECTED, InvalidInputError, KetareportError

_DEBUG = "ketareport.debug"
_QUIET = "ketareport.quiet"
_LIVE = "ketareport.live_progress"
STARTED = time.monotonic()
"""When the command began (this module loads first): a long run's elapsed time counts from here."""


def check_source_date_epoch() -> None:
    """Exit with status 2 when SOURCE_DATE_EPOCH is set but not whole seconds.

    Checked before numpy is imported: its f2py module reads the variable at
    import time and would stop with a bare ValueError on a malformed value.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None and not epoch.strip().isdigit():
        click.echo(
            f"ketareport: SOURCE_DATE_EPOCH is {epoch!r}; it must be whole seconds since 1970-01-01 "
            "(for example $(git log -1 --format=%ct)), or unset",
            err=True,
        )
        sys.exit(EXIT_INVALID_INPUT)


def _flag(key: str):
    """Callback of a global flag: remember it on the root context, for the handler and :func:`progress`."""
    def remember(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if value:
            ctx.find_root().meta[key] = True
    return remember


def global_options() -> list[click.Option]:
    return [
        click.Option(["--debug"], is_flag=True, expose_value=False, is_eager=True, callback=_flag(_DEBUG),
                     help="Show the full traceback of an unexpected error."),
        click.Option(["--quiet", "-q"], is_flag=True, expose_value=False, is_eager=True, callback=_flag(_QUIET),
                     help="No progress messages on stderr (errors and the paths written still appear)."),
    ]


def _root_meta() -> dict:
    context = click.get_current_context(silent=True)
    return context.find_root().meta if context is not None else {}


def progress(message: str) -> None:
    """The progress hook every command passes to the engine: one line on stderr, nothing under --quiet.

    On a terminal, also a live line (spinner, stage, elapsed time) once the
    run passes 2 s, and its total time at the end (:mod:`ketareport.progress`).
    """
    meta = _root_meta()
    if meta.get(_QUIET):
        return
    if meta.get(_LIVE) is None and sys.stderr.isatty() and click.get_current_context(silent=True) is not None:
        from .progress import TerminalProgress

        meta[_LIVE] = TerminalProgress(STARTED).start()
    if meta.get(_LIVE) is not None:
        meta[_LIVE].update(message)
    else:
        click.echo(f"ketareport: {message}", err=True)


def _finish_progress(ctx: click.Context, success: bool) -> None:
    live = ctx.meta.pop(_LIVE, None)
    if live is not None:
        live.finish(success)


class KetareportGroup(click.Group):
    """The command group: adds the global options to every command and handles the engine's errors once."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        cmd.params.extend(global_options())
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context):
        try:
            try:
                return super().invoke(ctx)
            finally:  # before any message below: the live progress line leaves the terminal first
                failure = sys.exc_info()[1]
                _finish_progress(ctx, failure is None or (isinstance(failure, click.exceptions.Exit) and failure.exit_code == 0))
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except InvalidInputError as error:
            click.echo(error.report(), err=True)
            click.echo("Nothing was written.", err=True)
            ctx.exit(error.exit_code)
        except KetareportError as error:
            if ctx.meta.get(_DEBUG) and error.exit_code == EXIT_UNEXPECTED:
                raise
            click.echo(f"ketareport: {error}", err=True)
            if error.exit_code == EXIT_INVALID_INPUT:
                click.echo("Nothing was written.", err=True)
            ctx.exit(error.exit_code)
        except Exception as error:
            if ctx.meta.get(_DEBUG):
                raise
            click.echo(f"ketareport: unexpected error: {type(error).__name__}: {error}", err=True)
            click.echo("Run again with --debug for the full traceback.", err=True)
            ctx.exit(EXIT_UNEXPECTED)


def say_draft_or_refuse(config, strict: bool) -> None:
    """``render``: what study.yml lacks for a submission stops ``--strict``, else is said on stderr, as is a
    report left at ``report.status: draft``: either makes the report a draft (DRAFT on every PDF page)."""
    from .errors import MissingMetadata
    from .present.formats import format_series

    missing = config.missing_metadata()
    if missing and strict:
        raise MissingMetadata(f"--strict: the study configuration lacks {format_series(missing)}")
    if missing:
        click.echo(f"ketareport: draft, not for submission: missing {format_series(missing)}", err=True)
    elif config.report.status != "final":
        click.echo(f"ketareport: draft: study.yml has report.status: {config.report.status} "
                   "(set report.status: final for the version to submit)", err=True)


def engine_option(command):
    """--engine, shared by the commands that read a dataset (analyze, render, verify, check)."""
    return click.option(
        "--engine", type=click.Choice(["duckdb", "postgres", "spark"]), default=None,
        help="Check and analyse DATASET in this database engine (default: the engine DATASET names — "
             "a .duckdb file, a postgresql:// URL — else the files' own reader). With spark, DATASET "
             "is a folder of patients/infusions Parquet or CSV files, or tables of the session's catalog "
             "named in study.yml (data.patients, data.infusions); data.spark_master picks a cluster.",
    )(command)


def checked_summary(dataset: str, config_path: Path | None, engine: str | None):
    """What ``check`` prints from: the cohort's summary, its relief summary and the configuration.

    Files are read, validated and made into the cohort, with no statistics;
    a dataset in a database engine (chosen as ``analyze`` chooses:
    :func:`ketareport.pipeline.run_in_database`) is checked and aggregated
    there, and only its summaries come back. Raises the same errors as
    ``analyze``, listing every problem.
    """
    from .pipeline import prepare_cohort, resolve_config, run_in_database

    config = resolve_config(Path(dataset), config_path)
    run = run_in_database(dataset, config, engine=engine, progress=progress, result_files=False)
    if run is not None:
        return run.results.cohort, run.results.relief, config
    from .analyze import relief, summarise_cohort

    prepared = prepare_cohort(Path(dataset), config, progress=progress)
    return summarise_cohort(prepared.cohort), relief(prepared.cohort.patients, config.analysis), config


def dataset_options(command):
    """DATASET, --out and --config, shared by the commands that analyse."""
    command = click.option(
        "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
        help="Study configuration (YAML). Default: study.yml beside or inside DATASET, else built-in defaults.",
    )(command)
    command = click.option(
        "--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("reports"),
        show_default=True, help="Directory for the result files; created if missing.",
    )(command)
    # Text, not a Path: a database URL (postgresql://host/db) must keep its "//".
    return click.argument("dataset", type=click.Path())(command)


def run_program(command: click.Group) -> None:
    """Run ``command`` as the ``ketareport`` program, then end the process at once.

    Python's own exit tears down every module the command imported (pandas,
    numpy, pyarrow ...) before the process ends: about 0.1 s of CPU, a
    tenth of a whole ``analyze`` of the demo (``import ketareport.pipeline``
    then exit: 1.12 s against 0.97 s, medians of 8, load 6). The command's
    work is done by then: the atexit handlers run first as usual (they stop
    the PDF worker, remove temporary folders) and the output streams are
    flushed; only the teardown is skipped. An exception other than an exit
    (``--debug``) ends the process the usual way, with its traceback.
    """
    try:
        command(prog_name="ketareport")
        status = 0
    except SystemExit as exit:
        status = exit.code
    if status is not None and not isinstance(status, int):  # sys.exit("message"), as Python treats it
        print(status, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (ketareport ... | head): nothing more to say there
            pass
    os._exit(status or 0)


@contextmanager
def imports_without_gc():
    """Import the engine with Python's cyclic garbage collector paused, then leave what was imported out of it.

    Importing pandas, numpy and pyarrow makes hundreds of thousands of
    objects (classes, functions, their dictionaries), which set off some 180
    collections that find next to nothing: 0.08 to 0.1 s of CPU, a tenth of
    an analysis of the demo (counted with gc.callbacks). Afterwards the
    collector runs again for the work itself, and ``gc.freeze()`` keeps the
    imported modules' objects out of its later passes.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
