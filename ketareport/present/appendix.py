"""The reproducibility appendix, formatted from the run's provenance (pure: no file is read here)."""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from .context import VAS_BAND_CM, Appendix, Table, TableRow
from .files import data_file_names
from .formats import MINUS, MISSING, format_count, format_series

if TYPE_CHECKING:
    from ..pipeline import AnalysisRun
    from ..verify import VerificationReport


def appendix(run: AnalysisRun, verification: VerificationReport | None) -> Appendix:
    provenance = run.provenance
    dataset = provenance.dataset
    files = [[PurePath(f.path).name, f.sha256, f"{f.size_bytes:,} bytes"] for f in dataset.files]
    if provenance.config_file:
        files.append([PurePath(provenance.config_file).name, provenance.config_sha256,
                      f"{provenance.config_size_bytes:,} bytes"])
    versions = [["ketareport", provenance.ketareport_version], ["Python", provenance.python_version]]
    versions += [[name, version] for name, version in provenance.packages.items()]
    if verification is None:
        summary = (
            "The independent R cross-check was not run for this report. To run it, render with "
            "“ketareport render DATASET --verify” (or run “ketareport verify DATASET”) where R with lme4 and jsonlite is installed."
        )
        table, r_versions = None, []
    else:
        agreeing = len(verification.rows) - verification.n_disagreeing
        # Under small-cell protection the comparison (exact n and x of every estimate) is neither shown, nor
        # written, nor attached (suppress.py, report.data_files): the sentence says so.
        suppressed = bool(run.config.report.suppress_below)
        summary = (
            f"Every reported estimate was recomputed by an independent R program (reproduce.R). "
            f"{agreeing} of {len(verification.rows)} quantities agree within tolerance"
            + ("." if verification.all_agree else
               f"; {verification.n_disagreeing} DISAGREE{'.' if suppressed else ' (marked below).'}")
            + (" Under small-cell protection the quantity-by-quantity comparison, which gives counts exactly, is not "
               "printed, written beside this report or attached to the PDF; “ketareport verify DATASET” writes it "
               "as verification.csv for the analyst." if suppressed else
               " The comparison is also written as verification.csv beside this report, and attached to the PDF.")
        )
        table = Table(
            "tbl-verification", 6,
            "Python versus R, quantity by quantity, grouped by analysis (as in estimates.csv): values to ten "
            "significant digits, their absolute difference and the tolerance within which they must agree "
            "(relative; see the verify command for the rule).",
            ["Quantity", "Python", "R", "Difference", "Tolerance", "Agrees"],
            _verification_rows(verification),
        )
        r_versions = [["R", verification.r_version]] + [[name, version] for name, version in verification.r_packages.items()]
    return Appendix(
        input_files=files,
        row_counts=[[table_name, format_count(rows)] for table_name, rows in dataset.rows.items()],
        data_digest=dataset.digest, attached_files=data_file_names(verification),
        config_options=config_options(run.config.as_dict()), command=provenance.command,
        generated_at=provenance.generated_at + (" (SOURCE_DATE_EPOCH)" if provenance.source_date_epoch else ""),
        versions=versions, verification_summary=summary,
        verification_failed=verification is not None and not verification.all_agree, verification_table=table,
        verification_versions=r_versions, **_database(run, verification),
    )


def _database(run: AnalysisRun, verification: VerificationReport | None) -> dict[str, str]:
    """The appendix's statement of where a database run's tables were read, what came back, and how their digest
    was made (no file to hash on a server)."""
    database = run.database
    if database is None:
        return {}
    reductions = run.patient_reductions
    figure = ("the analysed patients’ mean reductions" if reductions is not None and reductions.index.means is not None
              else f"per group, the number of patients in each {VAS_BAND_CM:g} cm band of mean reduction")
    fetched = ["the ids the results list", f"the data Figure 2 draws ({figure})"]
    if verification is not None:
        fetched.append("the analysed rows that the cross-check in R reads")
    source = (f"The data were checked and analysed in {database.engine}, where they are kept: tables "
              f"{database.patients_table} and {database.infusions_table} of {database.location}. Only aggregates came "
              f"back from there, with {format_series(fetched)}.")
    if not database.row_digest:
        return {"data_source": source}
    method = (f"{database.engine} computed it from the rows, whatever their order: each row of each table hashed by "
              "the engine’s own hash function, per table the row count and two sums of the hashes, then the SHA-256 "
              f"of those figures. The same rows give the same digest in {database.engine}.")
    return {"data_source": source, "digest_method": method}


def _full(value: float | None) -> str:
    """A number at full precision for the verification table (it shows agreement to 1e-8)."""
    return MISSING if value is None else f"{value:.10g}".replace("-", MINUS)


def _tolerance(value: float) -> str:
    """1e-08 -> ``1e−8``."""
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}".replace("-", MINUS)


def _verification_rows(verification: VerificationReport) -> list[TableRow]:
    """One section per analysis (``vas_reduction`` ...), each quantity labelled ``term/column`` within it."""
    rows: list[TableRow] = []
    current = None
    for row in verification.rows:
        analysis, _, quantity = row.quantity.partition("/")
        if analysis != current:
            rows.append(TableRow(analysis, [], kind="section"))
            current = analysis
        rows.append(TableRow(quantity, [_full(row.python), _full(row.r), _full(row.abs_difference),
                                        _tolerance(row.tolerance), "yes" if row.agrees else "NO"]))
    return rows


def config_options(tree: dict[str, Any]) -> list[TableRow]:
    """The configuration used as (option, value) rows, one section per block (``study``, ``analysis`` ...).

    Options are named as in study.yml: nested keys joined by dots, list items numbered (``authors[1].name``).
    """
    rows: list[TableRow] = []
    for block, options in tree.items():
        rows.append(TableRow(block, [], kind="section"))
        rows += [TableRow(name, [value]) for name, value in _options(options, "")]
    return rows


def _options(value: Any, name: str) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _options(item, f"{name}.{key}" if name else str(key))]
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        return [pair for number, item in enumerate(value, start=1) for pair in _options(item, f"{name}[{number}]")]
    if isinstance(value, list):
        return [(name, ", ".join(_option_text(item) for item in value))]
    return [(name, _option_text(value))]


def _option_text(value: Any) -> str:
    """A value as study.yml would spell it: ``true``/``false`` for booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
