"""The ``ketareport`` command: a thin layer over the engine.

One function per command; each docstring is its ``--help``. The engine
raises its own exceptions (:mod:`ketareport.errors`, each with its exit
status); :class:`ketareport.console.KetareportGroup` turns them into
messages once, for every command, and gives every command ``--debug`` (the
traceback of an unexpected error) and ``--quiet`` (no progress messages).

  0  success
  1  an unexpected error, R / Quarto failing, or a database locked by another process (run again)
  2  invalid dataset, configuration or output folder, nothing to analyse,
     (render --strict) missing metadata or an empty index group, or a folder publish / diff cannot use:
     every problem listed, nothing written
  3  verify: Python and R disagree
  4  verify: R or an R package is missing
"""

from __future__ import annotations

from pathlib import Path

import click

from . import __version__
from .console import (
    KetareportGroup, check_source_date_epoch, checked_summary, dataset_options, engine_option, global_options,
    imports_without_gc, progress, run_program, say_draft_or_refuse,
)
from .errors import VerificationMismatch


@click.group(cls=KetareportGroup, context_settings={"help_option_names": ["-h", "--help"]}, params=global_options())
@click.version_option(__version__, prog_name="ketareport")
def main() -> None:
    """Turn a ketamine-infusion chart-review dataset into a manuscript.

    DATASET is a directory holding patients and infusions tables (.csv,
    .parquet, .xlsx or .rds), one .xlsx workbook with sheets patients and
    infusions, or one .RData/.rda file with data frames patients and
    infusions. The study's metadata and analysis options come from a
    study.yml (see docs/configuration.md).

    \b
    Examples:
      ketareport analyze data/demo --out reports/demo
      ketareport render data/demo --out reports/demo
      ketareport demo-data --out /tmp/big --patients 3000
    """
    check_source_date_epoch()


@main.command()
@dataset_options
@engine_option
def analyze(dataset: str, out_dir: Path, config_path: Path | None, engine: str | None) -> None:
    """Validate DATASET and compute the results (no report).

    Writes OUT/estimates.csv, OUT/results.json and OUT/results.rds, all or
    none: invalid input exits with status 2, lists every problem and leaves
    OUT as it was.

    DATASET may also be a database: a DuckDB file (study.duckdb,
    duckdb:///path), a PostgreSQL URL (postgresql://user@host/db), or
    tables read by Spark (--engine spark). The rules are then checked and
    the analysis aggregated where the data are; only aggregates come back.

    \b
    Examples:
      ketareport analyze data/demo --out reports/demo
      ketareport analyze study.duckdb --out reports/study
      ketareport analyze postgresql://analyst@warehouse/research --config study.yml --out reports/study
      ketareport analyze /data/registry --engine spark --out reports/registry
    """
    from .output import StagedOutput, check_writable

    check_writable(out_dir)  # before the heavy imports and the analysis: a bad folder fails at once
    with imports_without_gc():
        from .pipeline import run_analysis, write_results

    run = run_analysis(dataset, config_path, progress=progress, engine=engine)
    with StagedOutput(out_dir) as staged:
        write_results(run, staged)
        written = staged.publish()
    cohort = run.results.cohort
    progress(
        f"{cohort.n_patients} patients, {cohort.n_infusions} infusions "
        f"({cohort.n_infusions_excluded} excluded for missing data)"
    )
    for path in written:
        click.echo(str(path))


@main.command()
@dataset_options
@click.option("--verify", "cross_check", is_flag=True,
              help="Also recompute every estimate in R (reproduce.R) and put the comparison in the appendix; "
                   "exit status 3 if they disagree (the report is still written), 4 if R is missing.")
@click.option("--quarto", is_flag=True,
              help="Also write a ready-to-render Quarto project to OUT/quarto/ (and run `quarto render` "
                   "there when the quarto command is installed).")
@click.option("--strict", is_flag=True,
              help="Submission mode: stop (exit status 2, nothing written) when study.yml lacks what a submission "
                   "needs (title, authors, review-board statement, study period) or when no patient has the index "
                   "diagnosis. Without it the report is then a draft; cohort warnings (an empty index group, "
                   "diagnoses resembling the index one in the comparison group) go to stderr either way.")
@click.option("--suppress-below", type=click.IntRange(min=2), default=None, metavar="N",
              help="Small-cell protection in the report (HTML, PDF, Quarto variables): counts from 1 to N-1 print "
                   "as \"<N\", their percentages hidden (overrides report.suppress_below; see docs/suppression.md). "
                   "results.json and results.rds stay exact.")
@engine_option
def render(dataset: Path, out_dir: Path, config_path: Path | None, cross_check: bool, quarto: bool, strict: bool,
           suppress_below: int | None, engine: str | None) -> None:
    """Analyse DATASET and write the manuscript as HTML and PDF.

    Writes, all or none, to OUT: the result files of `analyze`, the report
    as <name>.html (one self-contained file) and <name>.pdf (PDF/A-3a, tagged;
    name and page size from study.yml), the figures as SVG under figures/,
    study-used.yml (the configuration used) and, with --verify,
    verification.csv; the PDF carries the result files, study-used.yml and
    verification.csv as attachments. Progress goes to stderr, the paths
    written to stdout. With SOURCE_DATE_EPOCH set, the same inputs give
    byte-identical files, in any OUT. What study.yml lacks for a submission is listed
    on stderr (the report is then a draft), and so is what the cohort probably
    does not mean (an empty index group); --strict stops instead.

    DATASET may also be a database, as for `analyze`: the report is the one the same
    rows give from files but for the lines naming the source (never a password); the
    engine also returns Figure 2's data and, with --verify, the analysed rows.

    \b
    Examples:
      ketareport render data/demo --out reports/demo
      ketareport render data/demo --out reports/demo --verify --quarto
      ketareport render data/demo --out reports/demo --strict
      ketareport render postgresql://analyst@warehouse/research --config study.yml --out reports/study
    """
    from .output import StagedOutput, check_writable

    check_writable(out_dir)  # before the heavy imports and the analysis: a bad folder fails at once
    from .pdf_worker import PdfWorker

    pdf_worker = PdfWorker.start()  # imports WeasyPrint in a second process while this one imports and analyses
    with imports_without_gc():
        import tempfile

        from . import report as manuscript
        from .check import refuse_a_warned_cohort
        from .pipeline import resolve_config, run_analysis
        from .present.suppress import with_threshold
    config = resolve_config(dataset, config_path)  # read once: the draft notice, then the analysis
    say_draft_or_refuse(config, strict)
    run = with_threshold(run_analysis(dataset, config=config, progress=progress, engine=engine, report=True,
                                      cross_check=cross_check), suppress_below)
    if strict:
        refuse_a_warned_cohort(run.results.cohort, run.config.analysis)
    verification = None
    if cross_check:
        from .verify import cross_check as run_cross_check

        progress("cross-checking every estimate in R")
        with tempfile.TemporaryDirectory(prefix="ketareport-verify-") as work:
            verification = run_cross_check(run, Path(work))
    built = manuscript.build(run, verification, progress=progress, pdf_worker=pdf_worker)
    with StagedOutput(out_dir) as staged:
        manuscript.write(built, staged, quarto=quarto, progress=progress)
        written = staged.publish()
    for path in written:
        click.echo(str(path))
    if quarto:
        from .quarto import render_quarto

        for path in render_quarto(out_dir / "quarto", progress=progress) or []:
            click.echo(str(path))
    if verification is not None and not verification.all_agree:
        raise VerificationMismatch(
            f"{verification.n_disagreeing} of {len(verification.rows)} quantities differ between Python and R; "
            "see the report's appendix"
        )


@main.command()
@dataset_options
@engine_option
def verify(dataset: Path, out_dir: Path, config_path: Path | None, engine: str | None) -> None:
    """Cross-check every estimate against an independent R program.

    Runs the Python analysis of DATASET and reproduce.R (plain R: t.test,
    qbeta, binom.test, prop.test, lme4::lmer) on the same analysis table
    (after validation and exclusions), and compares every estimate, SE,
    statistic, df, P, interval bound, level, n and x of estimates.csv:
    relative tolerance 1e-8 for the closed forms, 1e-4 for the mixed model
    (relative to max(|Python|, |R|); below 1 for means, bounds and t, where
    values cross zero, the tolerance is absolute). Needs Rscript with the R
    packages lme4 and jsonlite:

    \b
      apt-get install r-base-core r-cran-lme4 r-cran-jsonlite

    Prints the largest relative difference per analysis and "N of M
    quantities agree" (progress goes to stderr), and writes to OUT, all or
    none, even when they disagree:

    \b
      verification.csv  quantity, python, r, abs_difference, tolerance, agrees
      analysis.csv      the analysis table R read (one row per analysed
                        infusion, plus patients without one)
      options.json      the analysis options R read
      reproduce.R       the R program
      r_estimates.csv   R's estimates, in the columns of estimates.csv

    To rerun the R side by hand: cd OUT && Rscript reproduce.R analysis.csv
    r_estimates.csv options.json

    DATASET may also be a database, as for `analyze`: the check starts from the
    rows, so the analysed infusions (id, patient id, reduction) and the patients
    without one are fetched; analysis.csv is the one the same rows give from files.

    \b
    Exit status:
      0  every quantity agrees
      1  unexpected error, or reproduce.R stopped with an error
      2  invalid dataset or study configuration (nothing written)
      3  Python and R disagree (verification.csv lists which)
      4  Rscript, lme4 or jsonlite is missing (nothing written)

    \b
    Examples:
      ketareport verify data/demo --out reports/verify
    """
    from .output import StagedOutput, check_writable

    check_writable(out_dir)  # before the heavy imports and the analysis: a bad folder fails at once
    from .pipeline import run_analysis
    from .verify import cross_check, summary_lines, verification_csv

    run = run_analysis(dataset, config_path, progress=progress, engine=engine, cross_check=True)
    progress("recomputing every estimate in R (reproduce.R)")
    with StagedOutput(out_dir) as staged:
        # R's input, program and output are staged beside verification.csv, to rerun by hand.
        report = cross_check(run, staged.folder())
        staged.path("verification.csv").write_text(verification_csv(report), encoding="utf-8")
        written = staged.publish()
    for line in summary_lines(report):
        click.echo(line)
    progress(f"wrote {', '.join(str(path) for path in written)}")
    if not report.all_agree:
        raise VerificationMismatch(
            f"{report.n_disagreeing} of {len(report.rows)} quantities differ between Python and R; "
            f"see {out_dir / 'verification.csv'}"
        )


@main.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
def init(folder: Path) -> None:
    """Start a study in FOLDER: a commented study.yml and empty data tables.

    Writes FOLDER/study.yml (every option with its default and meaning;
    docs/configuration.md), patients.csv and infusions.csv holding only the
    header row of the data dictionary's columns, and a README.md pointing to
    docs/data-dictionary.md. Refuses (exit status 2, nothing written) when
    any of these files already exists.

    \b
    Example:
      ketareport init studies/my-clinic
      ketareport check studies/my-clinic
    """
    from .scaffold import write_scaffold

    for path in write_scaffold(folder):
        click.echo(str(path))


@main.command()
@click.argument("dataset", type=click.Path())  # text: a database URL keeps its "//"
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Study configuration (YAML). Default: study.yml beside or inside DATASET, else built-in defaults.")
@engine_option
def check(dataset: str, config_path: Path | None, engine: str | None) -> None:
    """Validate DATASET and summarise it, writing nothing.

    Prints the patients, the infusions, the exclusions by reason, the groups
    and how many patients have a relief duration recorded, then what
    study.yml lacks for a submission and whether the report will be a draft.
    Invalid input, or nothing left to analyse, exits with status 2 and lists
    every problem. DATASET may also be a database, as for `analyze`: the
    rules are checked and the counts made where the data are.

    \b
    Examples:
      ketareport check data/demo
      ketareport check study.duckdb --config study.yml
    """
    from .check import summary_lines

    for line in summary_lines(*checked_summary(dataset, config_path, engine)):
        click.echo(line)


@main.command("import-redcap")
@click.argument("records", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--dictionary", "dictionary", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The project's data dictionary (CSV, as REDCap's Data Dictionary page downloads it).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Dataset directory to write patients.csv, infusions.csv and study.yml into; created if missing.")
@click.option("--map", "field_map", multiple=True, metavar="COLUMN=FIELD",
              help="A contract column read from a REDCap field of another name, e.g. --map vas_pre=pain_before "
                   "(repeatable). Without it each column is read from the field of the same name.")
@click.option("--instrument", "instrument", default=None,
              help="The repeating instrument holding the infusions. Default: the form of the vas_pre field.")
def import_redcap(records: Path, dictionary: Path, out_dir: Path, field_map: tuple[str, ...],
                  instrument: str | None) -> None:
    """Turn a REDCap export (RECORDS.csv and its data dictionary) into a dataset.

    The record id becomes patient_id; the rows of the repeating infusion
    instrument become infusions; coded choices become their labels,
    checkbox fields (field___1 ...) the ;-joined labels of the checked
    choices, dates (date_ymd, date_mdy, date_dmy) ISO dates. The result is
    checked like any dataset: every problem names the REDCap record and
    field, exit status 2, nothing written.

    \b
    Example:
      ketareport import-redcap export.csv --dictionary dictionary.csv --out data/study
      ketareport analyze data/study --out reports/study
    """
    from .output import check_writable

    check_writable(out_dir)
    from .redcap import import_redcap as read_export, write_import

    mapping = {}
    for entry in field_map:
        column, separator, name = entry.partition("=")
        if not separator or not column.strip() or not name.strip():
            raise click.BadParameter(f"{entry!r} is not COLUMN=FIELD", param_hint="--map")
        mapping[column.strip().lower()] = name.strip()
    result = read_export(records, dictionary, field_map=mapping, infusion_instrument=instrument)
    written = write_import(result, out_dir, records.name, dictionary.name)
    progress(f"{len(result.patients)} patients, {len(result.infusions)} infusions")
    for path in written:
        click.echo(str(path))


@main.command("demo-data")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Directory to write the dataset into; created if missing.")
@click.option("--patients", type=click.IntRange(min=2), default=None,
              help="Number of patients. Default 49: the calibrated demo that reproduces the published abstract. "
                   "Any other number scales the same design up or down, uncalibrated.")
@click.option("--seed", type=int, default=None, help="Random seed (default: the demo's own seed).")
@click.option("--rdata/--no-rdata", "rdata", default=None,
              help="Also write demo.RData for R users. Default: yes for the 49-patient demo, "
                   "no otherwise (slow for large datasets).")
def demo_data(out_dir: Path, patients: int | None, seed: int | None, rdata: bool | None) -> None:
    """Write a synthetic dataset (no real patient) in the contract's format.

    With the defaults it writes exactly the committed data/demo/.

    \b
    Examples:
      ketareport demo-data --out data/demo
      ketareport demo-data --out /tmp/large --patients 3000 --seed 7
    """
    from .output import check_writable

    check_writable(out_dir)
    from . import demo

    written = demo.write_demo(
        out_dir,
        patients=demo.DEMO_PATIENTS if patients is None else patients,
        seed=demo.DEFAULT_SEED if seed is None else seed,
        rdata=rdata,
    )
    for path in written:
        click.echo(str(path))


@main.command()
@click.argument("source", type=click.Path(path_type=Path, exists=True))
@click.option("--site", "site_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="The site folder (created if missing): index.html, latest.html and one folder per version.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Study configuration (YAML). Default: study.yml beside or inside SOURCE, else built-in defaults.")
@click.option("--suppress-below", type=click.IntRange(min=2), default=None, metavar="N",
              help="Small-cell protection: counts from 1 to N-1 print as \"<N\", their percentages hidden "
                   "(overrides report.suppress_below; see docs/suppression.md).")
def publish(source: Path, site_dir: Path, config_path: Path | None, suppress_below: int | None) -> None:
    """Publish SOURCE as the next version of a static site.

    SOURCE is a dataset (rendered here) or a folder `ketareport render`
    wrote. The site needs no JavaScript and links only relatively: copy it
    to a file share or serve it with any static web server. SITE/index.html
    lists every version, newest first, with what changed since the previous
    one, and its title, report version and status (report.version and
    report.status of study.yml); each version has its own folder (v1, v2,
    ...), never overwritten; SITE/latest.html points at the newest. Publishing the same data and
    configuration again changes nothing and says so. With small-cell
    suppression on, the unsuppressed result files (results.json,
    results.rds, estimates.csv) are not published.

    \b
    Examples:
      ketareport publish data/demo --site /srv/intranet/ketamine
      ketareport publish reports/demo --site site
      ketareport publish data/demo --site site --suppress-below 5
    """
    from .publish import publish as publish_version

    outcome = publish_version(source, site_dir, config_path=config_path, suppress_below=suppress_below,
                              progress=progress)
    version = outcome.version
    if not outcome.created:
        progress(f"already published as version {version.number} (same data and configuration): nothing written")
    click.echo(str(site_dir / version.folder / "index.html"))


@main.command()
@click.argument("old", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.argument("new", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--html", "html_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write the table as an HTML fragment to this file.")
def diff(old: Path, new: Path, html_path: Path | None) -> None:
    """List every estimate, count and table cell that differs between OLD and NEW.

    OLD and NEW are two result folders (analyze/render --out) or two site
    versions (SITE/v1, SITE/v2). Both are compared on results.json when
    both have it (full precision), else on report-values.json (the values
    as printed, suppressed when suppression is on). Prints the old value,
    the new one and their difference; exit status 0 whether or not
    anything changed.

    \b
    Example:
      ketareport diff site/v1 site/v2
    """
    from .diff import diff_folders, diff_html, diff_text
    from .output import write_atomic

    source, changes = diff_folders(old, new)
    click.echo(diff_text(changes, source))
    if html_path is not None:
        write_atomic(html_path, diff_html(changes, f"Changes from {old.name} to {new.name}") + "\n")


def run() -> None:
    """The ``ketareport`` program: its console script and ``python -m ketareport`` (tests call :func:`main`)."""
    run_program(main)
