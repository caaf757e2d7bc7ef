"""`render` and `verify` of a database source: the report the files give, but for the lines naming the source.

What must differ between the demo rendered from files and from a database,
and nothing else: the data digest (title page, every page footer, appendix),
the appendix's "Input files" (the database named, the files listed — the
DuckDB file, or none on a server — and, on a server, how the rows were
digested) and the command recorded in the appendix; in the PDF, the page
count that a longer appendix changes.
"""

from __future__ import annotations

import re
import sys

import pytest
from click.testing import CliRunner

from ketareport import cli
from ketareport.export import analysis_csv
from ketareport.figures import render_figures
from ketareport.patient_reductions import POINTS_UP_TO
from ketareport.pipeline import run_analysis
from ketareport.present.appendix import appendix
from ketareport.present.build import gather_facts
from ketareport.present.context import VAS_BAND_CM
from ketareport.present.suppress import figures_as_protected, with_threshold

from ..conftest import DEMO
from ..engines import csv_into_duckdb
from .test_pdf import pdftotext
from .test_render import html_text, plain

pytestmark = pytest.mark.slow  # each render takes seconds; the engines compile their queries through Ibis
EPOCH = "1330560000"
FIGURES = ("figure-1-flow.svg", "figure-2-vas.svg", "figure-3-relief.svg")


def render(dataset, out, *extra: str):
    arguments = ["render", str(dataset), "--config", str(DEMO / "study.yml"), "--out", str(out), *extra]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        patch.setattr(sys, "argv", ["ketareport", *arguments])  # the command line the appendix records
        result = CliRunner().invoke(cli.main, arguments, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def digest(folder) -> str:
    import json

    return json.loads((folder / "results.json").read_text())["provenance"]["dataset"]["digest"]


def without_provenance(text: str, folder) -> str:
    """The report's text with the lines that name the source cut out (see the module docstring)."""
    data_digest = digest(folder)
    text = text.replace(data_digest, "DIGEST").replace(data_digest[:12], "DIGEST")
    text = re.sub(r"Input files .*? Rows read\.", "Input files ... Rows read.", text)
    return re.sub(r"by the command below .*? Software versions", "by the command below ... Software versions", text)


def pdf_pages_before_the_appendix(folder) -> list[str]:
    """The PDF's pages up to the appendix, each as read but for the page count (the appendix naming the source
    may run a page longer, and its tables break at other places: the HTML's appendix is compared instead)."""
    pages = [without_provenance(plain(page), folder) for page in pdftotext(folder / "ketamine-report.pdf").split("\f")]
    first = next(number for number, page in enumerate(pages) if "Appendix: reproducibility" in page)
    return [re.sub(r"(page \d+) of \d+", r"\1", page) for page in pages[:first]]


def assert_same_report_but_the_source(files, database) -> None:
    for name in FIGURES:
        assert (database / "figures" / name).read_bytes() == (files / "figures" / name).read_bytes(), name
    assert without_provenance(html_text(database), database) == without_provenance(html_text(files), files)
    assert pdf_pages_before_the_appendix(database) == pdf_pages_before_the_appendix(files)
    assert "checked and analysed in" in plain(pdftotext(database / "ketamine-report.pdf"))
    assert digest(database) != digest(files)


@pytest.fixture(scope="module")
def from_files(tmp_path_factory):
    return render(DEMO, tmp_path_factory.mktemp("files") / "report")


@pytest.mark.usefixtures("duckdb_engine")
def test_demo_from_duckdb_is_the_file_report_but_its_source(from_files, tmp_path):
    database = csv_into_duckdb(DEMO, tmp_path / "study.duckdb")
    out = render(database, tmp_path / "report")
    assert_same_report_but_the_source(from_files, out)
    text = html_text(out)
    assert "checked and analysed in DuckDB" in text and "study.duckdb" in text
    assert "analysed patients’ mean reductions" in text  # 18 and 31 patients: Figure 2 drew each of them
    assert "patients.csv" not in text and "patients.csv" in html_text(from_files)


def test_demo_from_postgresql_is_the_file_report_but_its_source(from_files, postgres, tmp_path):
    url = postgres.load_csv(DEMO).replace("postgres@", "postgres:not-to-be-printed@")  # trust: ignored by the server
    out = render(url, tmp_path / "report", "--quarto")
    assert_same_report_but_the_source(from_files, out)
    text = html_text(out)
    assert "checked and analysed in PostgreSQL" in text and "PostgreSQL computed it from the rows" in text
    assert "postgres:***@" in text
    for path in out.rglob("*"):
        if path.is_file():
            assert b"not-to-be-printed" not in path.read_bytes(), path


@pytest.mark.usefixtures("spark_engine")
def test_demo_from_spark_is_the_file_report_but_its_source(from_files, tmp_path):
    out = render(DEMO, tmp_path / "report", "--engine", "spark")
    assert_same_report_but_the_source(from_files, out)
    text = html_text(out)
    assert "checked and analysed in Spark" in text
    assert str(DEMO) not in text  # the folder relative to the working directory, as for files


@pytest.mark.usefixtures("duckdb_engine")
def test_the_analysis_table_from_duckdb_is_the_file_path_s(tmp_path, generated_3000):
    for dataset in (DEMO, generated_3000):
        database = csv_into_duckdb(dataset, tmp_path / f"{dataset.name}.duckdb")
        from_database = run_analysis(database, cross_check=True).analysis_table
        assert analysis_csv(from_database) == analysis_csv(run_analysis(dataset).analysis_table)


@pytest.mark.usefixtures("duckdb_engine")
def test_render_verify_from_duckdb_agrees_with_r(rscript, tmp_path):
    database = csv_into_duckdb(DEMO, tmp_path / "study.duckdb")
    out = render(database, tmp_path / "report", "--verify")
    rows = (out / "verification.csv").read_text().splitlines()[1:]
    assert len(rows) == 80 and all(row.endswith(",true") for row in rows)
    text = html_text(out)
    assert "80 of 80 quantities agree" in text and "the analysed rows that the cross-check in R reads" in text


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    """Over POINTS_UP_TO patients in each group: Figure 2 draws the distribution."""
    from ketareport import demo

    folder = tmp_path_factory.mktemp("large")
    demo.write_demo(folder, patients=1000, seed=11, rdata=False)
    return folder


@pytest.mark.usefixtures("duckdb_engine")
@pytest.mark.parametrize("suppress_below", [None, 11])
def test_figure_2_of_large_groups_from_duckdb_is_the_file_path_s(large, tmp_path, suppress_below):
    runs = {"files": run_analysis(large), "duckdb": run_analysis(csv_into_duckdb(large, tmp_path / "large.duckdb"), report=True)}
    cohort = runs["files"].results.cohort
    assert min(cohort.n_index_analyzed, cohort.n_comparison_analyzed) > POINTS_UP_TO
    # The engine returned band counts only, not a row per patient, and the appendix says so.
    assert runs["duckdb"].patient_reductions.index.means is None
    assert f"the number of patients in each {VAS_BAND_CM:g} cm band" in appendix(runs["duckdb"], None).data_source
    svgs = {}
    for name, run in runs.items():
        if suppress_below is None:
            svgs[name] = render_figures(run, vas_display="distribution")["vas"]
        else:
            protected = with_threshold(run, suppress_below)
            masked, protection = figures_as_protected(protected, gather_facts(protected))
            svgs[name] = render_figures(masked, vas_display="distribution", **protection)["vas"]
    assert svgs["duckdb"] == svgs["files"]
    # One bar per band drawn: under suppression the wider bands (merged from the engine's) of N or more patients.
    groups = (runs["files"].patient_reductions.index, runs["files"].patient_reductions.comparison)
    if suppress_below is not None:
        groups = tuple(group.in_protected_bands(suppress_below) for group in groups)
    assert svgs["files"].count("<rect") == sum(len(group.bands) for group in groups) > 4
