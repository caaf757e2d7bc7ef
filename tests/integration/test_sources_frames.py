"""results.rds of a database run: ``patient_means`` and ``analysed_infusions`` as the file path writes them for
the same rows (columns, types, order and values), fetched from the engine up to FRAMES_UP_TO analysed
infusions; above it, no such frame and ``row_frames_omitted`` saying why (ketareport/sources/report_inputs.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from ketareport.export import analysis_csv
from ketareport.output import StagedOutput
from ketareport.pipeline import run_analysis, write_results
from ketareport.sources import report_inputs

from ..conftest import DEMO, _missing_r_packages, _missing_tool
from ..datasets import INFUSIONS_CSV, PATIENTS_CSV, write_csv_dataset
from ..engines import csv_into_duckdb

pytestmark = pytest.mark.slow  # each database run compiles its queries through Ibis: seconds
ROW_FRAMES = ("analysed_infusions", "patient_means")


def results_rds(run, folder):
    """results.rds as write_results writes it, read back by rdata (a reader independent of ketareport's writer)."""
    import rdata

    with StagedOutput(folder) as staged:
        write_results(run, staged)
        staged.publish()
    return rdata.read_rds(folder / "results.rds")


def assert_same_row_frames(from_database: dict, from_files: dict) -> None:
    for name in ROW_FRAMES:
        expected, actual = from_files[name], from_database[name]
        assert len(expected) > 0, name
        pd.testing.assert_frame_equal(actual, expected, check_exact=False, rtol=1e-9, obj=name)
    assert "row_frames_omitted" not in from_database and "row_frames_omitted" not in from_files


@pytest.fixture(scope="module")
def demo_from_files(tmp_path_factory):
    return results_rds(run_analysis(DEMO), tmp_path_factory.mktemp("files"))


def with_unanalysed_patients(folder):
    """The small dataset (ids whose text order is not their stored order: I10 before I2) plus a patient without
    infusions and one whose only infusion is excluded: the cross-check's table lists both, the frames neither."""
    patients = PATIENTS_CSV + "P7,migraine,F,50,,,\nP8,CRPS,M,38,,12,false\n"
    infusions = INFUSIONS_CSV + "I11,P8,2008-04-02,110,60,7,,true,true,\n"
    return write_csv_dataset(folder, patients, infusions)


@pytest.mark.usefixtures("duckdb_engine")
@pytest.mark.parametrize("dataset", ["demo", "small"])
def test_row_frames_from_duckdb_are_the_file_path_s(demo_from_files, tmp_path, dataset):
    source = DEMO if dataset == "demo" else with_unanalysed_patients(tmp_path / "small")
    files = run_analysis(source, cross_check=True)
    run = run_analysis(csv_into_duckdb(source, tmp_path / "study.duckdb"), cross_check=True)
    read = results_rds(run, tmp_path / "out")
    assert_same_row_frames(read, demo_from_files if dataset == "demo" else results_rds(files, tmp_path / "files"))
    assert list(read["patient_means"].columns) == ["patient_id", "diagnosis", "group", "n_infusions", "mean_vas_pre",
                                                   "mean_vas_post", "mean_reduction"]
    cohort = run.results.cohort
    assert (len(read["patient_means"]), len(read["analysed_infusions"])) == (cohort.n_patients_analyzed,
                                                                             cohort.n_infusions_analyzed)
    # One fetch served both: the cross-check's table is the file path's too.
    assert analysis_csv(run.analysis_table) == analysis_csv(files.analysis_table)
    if dataset == "small":
        assert cohort.n_patients_analyzed < cohort.n_patients
        assert list(read["analysed_infusions"]["infusion_id"]) == sorted(read["analysed_infusions"]["infusion_id"])


def test_row_frames_from_postgresql_are_the_file_path_s(demo_from_files, postgres, tmp_path):
    read = results_rds(run_analysis(postgres.load_csv(DEMO)), tmp_path / "out")
    assert_same_row_frames(read, demo_from_files)


@pytest.mark.usefixtures("duckdb_engine")
@pytest.mark.parametrize("cross_check", [False, True])
def test_above_the_limit_the_row_frames_are_omitted_and_results_rds_says_why(demo_from_files, tmp_path, monkeypatch,
                                                                              cross_check):
    n_analysed = len(demo_from_files["analysed_infusions"])
    database = csv_into_duckdb(DEMO, tmp_path / "study.duckdb")
    monkeypatch.setattr(report_inputs, "FRAMES_UP_TO", n_analysed)  # at the limit: fetched
    assert_same_row_frames(results_rds(run_analysis(database), tmp_path / "at"), demo_from_files)
    monkeypatch.setattr(report_inputs, "FRAMES_UP_TO", n_analysed - 1)
    run = run_analysis(database, cross_check=cross_check)
    read = results_rds(run, tmp_path / "above")
    assert not set(ROW_FRAMES) & set(read)
    [note] = read["row_frames_omitted"]  # a character vector of one element
    assert f"analysed {n_analysed} infusions in DuckDB, more than the {n_analysed - 1}" in note
    assert len(read["characteristics_long"]) == len(demo_from_files["characteristics_long"])
    if cross_check:  # the cross-check still fetches its rows, whatever their number
        assert analysis_csv(run.analysis_table) == analysis_csv(run_analysis(DEMO).analysis_table)
    else:
        assert run.analysed_rows is None  # nothing fetched


@pytest.mark.r
@pytest.mark.usefixtures("duckdb_engine")
def test_r_reads_the_same_row_frames_from_duckdb_as_from_files(generated_3000, tmp_path, run_r):
    folders = {"files": tmp_path / "files", "duckdb": tmp_path / "duckdb"}
    for name, dataset in (("files", generated_3000), ("duckdb", csv_into_duckdb(generated_3000, tmp_path / "g.duckdb"))):
        with StagedOutput(folders[name]) as staged:
            write_results(run_analysis(dataset), staged)
            staged.publish()
    compared = run_r(r"""
files <- readRDS(file.path(commandArgs(TRUE)[1], "results.rds"))
duckdb <- readRDS(file.path(commandArgs(TRUE)[2], "results.rds"))
for (name in c("analysed_infusions", "patient_means")) {
  cat(name, nrow(duckdb[[name]]), isTRUE(all.equal(files[[name]], duckdb[[name]], tolerance = 1e-9)),
      identical(vapply(files[[name]], typeof, ""), vapply(duckdb[[name]], typeof, "")), "\n")
}
""", str(folders["files"]), str(folders["duckdb"]))
    lines = dict(line.split(" ", 1) for line in compared.splitlines())
    assert lines["analysed_infusions"].split()[1:] == ["TRUE", "TRUE"]
    assert lines["patient_means"].split()[1:] == ["TRUE", "TRUE"]
    assert int(lines["patient_means"].split()[0]) > 2000


@pytest.mark.quarto
@pytest.mark.usefixtures("duckdb_engine")
@pytest.mark.parametrize("fetched", [True, False])
def test_the_r_template_of_a_duckdb_run_renders_through_quarto(quarto, rscript, tmp_path, monkeypatch, fetched):
    from ketareport import report

    from .test_quarto import write_report
    from .test_quarto_render import html_text, quarto_render

    if _missing_r_packages(rscript, ("knitr", "rmarkdown")):
        _missing_tool("R packages knitr and rmarkdown are needed (apt-get install r-cran-knitr r-cran-rmarkdown)")
    if not fetched:
        monkeypatch.setattr(report_inputs, "FRAMES_UP_TO", 10)
    run = run_analysis(csv_into_duckdb(DEMO, tmp_path / "study.duckdb"), report=True)
    project = write_report(tmp_path / "out", report.build(run, pdf=False))["project"]
    completed = quarto_render(quarto, project, "templates/results-r.qmd")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    page = (project / "_output" / "templates" / "results-r.html").read_text(encoding="utf-8")
    text = html_text(page)
    cohort = run.results.cohort
    by_diagnosis = "<caption>Mean VAS reduction (cm) by diagnosis"  # the chunk's table (its code is shown either way)
    overall = f"Mean of {cohort.n_patients_analyzed} patient means:"
    if fetched:  # the by-diagnosis and check-overall chunks ran
        assert "Here results.rds holds both." in text
        assert by_diagnosis in page and overall in text
    else:
        assert "Here results.rds has no patient_means, so the next two chunks do not run: " in text
        assert report_inputs.frames_omitted_note(cohort.n_infusions_analyzed, "DuckDB") in text
        assert by_diagnosis not in page and overall not in text
    assert "<caption>Sex by group" in page
