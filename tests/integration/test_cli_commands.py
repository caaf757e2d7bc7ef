"""init, check, render --strict, the global options, and each error path of the command line.

One "errors properly" test per option or failure (as gtsummary does), run
in-process with click's runner, so this file stays quick.
"""

from __future__ import annotations

import hashlib
import json
import os

import pytest
import yaml
from click.testing import CliRunner

from ketareport import cli
from ketareport.config import StudyConfig, load_config
from ketareport.contract import INFUSION_COLUMNS, PATIENT_COLUMNS

from ..conftest import DEMO
from ..datasets import INFUSIONS_CSV, PATIENTS_CSV, write_csv_dataset

HEADER = INFUSIONS_CSV.splitlines()[0]


def run(*args: str):
    return CliRunner().invoke(cli.main, [str(arg) for arg in args])


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# ----------------------------------------------------------------- init --

def test_init_writes_a_template_headers_and_a_readme(tmp_path):
    folder = tmp_path / "study"
    result = run("init", folder)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "infusions.csv", "patients.csv", "study.yml"]
    assert (folder / "patients.csv").read_text() == ",".join(PATIENT_COLUMNS) + "\n"
    assert (folder / "infusions.csv").read_text() == ",".join(INFUSION_COLUMNS) + "\n"
    assert "data-dictionary.md" in (folder / "README.md").read_text()
    template = (folder / "study.yml").read_text()
    assert load_config(folder / "study.yml").as_study_yml() == StudyConfig().as_study_yml()
    assert "# review_board:" in template and "conf_level: 0.95" in template


def test_init_errors_properly_when_a_file_exists(tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "patients.csv").write_text("mine\n")
    before = snapshot(folder)
    result = run("init", folder)
    assert result.exit_code == 2
    assert "already holds patients.csv" in result.output
    assert snapshot(folder) == before


def test_init_errors_properly_on_an_unwritable_folder():
    result = run("init", "/proc/ketareport-study")
    assert result.exit_code == 2 and "cannot write to /proc/ketareport-study" in result.output


# ---------------------------------------------------------------- check --

def test_check_summarises_and_writes_nothing(tmp_path):
    dataset = write_csv_dataset(tmp_path / "data")
    before = snapshot(tmp_path)
    result = run("check", dataset)
    assert result.exit_code == 0, result.output
    for line in [
        "patients: 6 (CRPS 3, other diagnoses 3)",
        "infusions: 10, of which 8 analysable",
        "excluded for missing data: 2 infusions (1 missing infusion duration, 1 missing VAS before infusion)",
        "diagnoses: CRPS 3, back pain 2, headache 1",
        "relief duration recorded: 5 patients (2 with relief ongoing at last contact)",
        "study.yml lacks: a study.yml (defaults were used); a title (study.title)",
    ]:
        assert line in result.output, line
    assert snapshot(tmp_path) == before


def test_a_diagnosis_resembling_the_index_is_warned_about_once(tmp_path):
    dataset = write_csv_dataset(tmp_path / "data", PATIENTS_CSV.replace("P3,Back Pain", "P3,CRPS type I"))
    warning = ("warning: 1 patient has the diagnosis 'CRPS type I', which is in the comparison group: "
               "the index group (CRPS) is the diagnosis 'crps' only")
    checked = run("check", dataset)
    assert checked.exit_code == 0 and checked.output.count(warning) == 1, checked.output
    analysed = run("analyze", dataset, "--out", tmp_path / "out")
    assert analysed.exit_code == 0 and f"ketareport: {warning}" in analysed.output, analysed.output


def test_check_errors_properly_on_invalid_data(tmp_path):
    dataset = write_csv_dataset(tmp_path / "data", PATIENTS_CSV.replace("P3,Back Pain,F,61", "P3,Back Pain,F,161"))
    result = run("check", dataset)
    assert result.exit_code == 2 and "column age_years: 161 is outside 0 to 120" in result.output


def test_check_errors_properly_on_an_invalid_config(tmp_path):
    dataset = write_csv_dataset(tmp_path / "data")
    (dataset / "study.yml").write_text("analysis: {relief: {thresholds: [{name: week}]}}\n")
    result = run("check", dataset)
    assert result.exit_code == 2 and "analysis.relief.thresholds[1].days is missing" in result.output


COMPLETE_STUDY = ("study: {title: A study, authors: [{name: A. Author}], review_board: Approved by the board,"
                  " period: {start: 2005-01-01, end: 2008-12-31}}\n")


@pytest.mark.parametrize("report, line", [
    ("", "study.yml: complete\nreport.status: draft — the report will be a draft (DRAFT on every PDF page); "
         "set report.status: final in study.yml for the version to submit"),
    ("report: {status: final}\n", "study.yml: complete\nreport.status: final — the report will be final (no DRAFT mark)"),
])
def test_check_says_whether_the_report_will_be_a_draft(tmp_path, report, line):
    dataset = write_csv_dataset(tmp_path / "data")
    (dataset / "study.yml").write_text(COMPLETE_STUDY + report)
    result = run("check", dataset)
    assert result.exit_code == 0 and line in result.output, result.output


def test_check_says_a_final_status_is_a_draft_while_metadata_is_missing(tmp_path):
    dataset = write_csv_dataset(tmp_path / "data")
    (dataset / "study.yml").write_text("study: {title: A study}\nreport: {status: final}\n")
    result = run("check", dataset)
    assert ("report.status: final, but the report will be a draft (DRAFT on every PDF page) until study.yml has "
            "what it lacks") in result.output, result.output


# ----------------------------------------------- nothing to analyse (exit 2) --

@pytest.mark.parametrize("command", ["analyze", "render", "check"])
@pytest.mark.parametrize("infusions, message", [
    (HEADER + "\n", "nothing to analyse: the infusions table has no rows (6 patients)"),
    (HEADER + "\nI1,P1,2005-01-02,,60,8,,true,true,\nI2,P2,2005-01-03,80,60,7,,true,true,\n",
     "0 of 2 infusions analysable: 2 missing VAS after infusion, 1 missing ketamine dose"),
])
def test_no_analysable_infusion_errors_properly(tmp_path, command, infusions, message):
    dataset = write_csv_dataset(tmp_path / "data", infusions=infusions)
    out = tmp_path / "out"
    result = run(command, dataset, *(("--out", out) if command != "check" else ()))
    assert result.exit_code == 2, result.output
    assert message in result.output and "Nothing was written." in result.output
    assert not out.exists()


def test_no_patient_errors_properly(tmp_path):
    dataset = write_csv_dataset(tmp_path / "data", "patient_id,diagnosis\n", HEADER + "\n")
    result = run("analyze", dataset, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "the patients table has no rows" in result.output


def test_render_reads_study_yml_once(tmp_path, monkeypatch):
    """The draft notice and the analysis use one reading of the configuration (here: up to nothing to analyse)."""
    from ketareport import pipeline

    read = []
    monkeypatch.setattr(pipeline, "load_config", lambda path: read.append(path) or load_config(path))
    dataset = write_csv_dataset(tmp_path / "data", infusions=HEADER + "\n")
    result = run("render", dataset, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "nothing to analyse" in result.output, result.output
    assert len(read) == 1, read


# ---------------------------------------------------------- output folder --

@pytest.mark.parametrize("command", ["analyze", "render", "verify", "demo-data"])
def test_unwritable_output_errors_properly_before_any_work(tmp_path, command):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    args = ("--out", blocker / "out") if command == "demo-data" else (DEMO, "--out", blocker / "out")
    result = run(command, *args)
    assert result.exit_code == 2, result.output
    assert f"cannot write to {blocker / 'out'}" in result.output
    assert "reading" not in result.output  # stopped before loading the data


def test_output_under_proc_is_refused():
    result = run("analyze", DEMO, "--out", "/proc/ketareport-out")
    assert result.exit_code == 2 and "cannot write to /proc/ketareport-out" in result.output
    assert "Traceback" not in result.output


# ----------------------------------------------------- render --strict --

def test_render_strict_errors_properly_on_missing_metadata(tmp_path):
    dataset = write_csv_dataset(tmp_path / "data")
    (dataset / "study.yml").write_text("study: {title: A study}\n")
    result = run("render", dataset, "--out", tmp_path / "out", "--strict")
    assert result.exit_code == 2
    assert "--strict: the study configuration lacks authors (study.authors), a review-board statement" in result.output
    assert not (tmp_path / "out").exists()


def test_render_strict_stops_on_an_empty_index_group(tmp_path):
    patients = PATIENTS_CSV.replace("CRPS,", "CRPS type I,").replace("crps,", "crps type I,")
    dataset = write_csv_dataset(tmp_path / "data", patients)
    (dataset / "study.yml").write_text(COMPLETE_STUDY)
    result = run("--quiet", "render", dataset, "--out", tmp_path / "out", "--strict")
    assert result.exit_code == 2, result.output
    assert "ketareport: --strict: the cohort is probably not the one meant" in result.output
    assert ("\n  - no patient has the index diagnosis 'crps' (study.yml analysis.index_diagnosis): the index group "
            "(CRPS) is empty") in result.output
    assert "Nothing was written." in result.output and not (tmp_path / "out").exists()


def test_render_strict_renders_a_look_alike_in_the_comparison_group_with_a_warning(tmp_path):
    # CRPS type II among the other diagnoses may be the design: a warning, not a refusal, even under --strict.
    dataset = write_csv_dataset(tmp_path / "data", PATIENTS_CSV.replace("P3,Back Pain", "P3,CRPS type II"))
    (dataset / "study.yml").write_text(COMPLETE_STUDY)
    result = run("render", dataset, "--out", tmp_path / "out", "--strict")
    assert result.exit_code == 0, result.output
    assert "warning: 1 patient has the diagnosis 'CRPS type II', which is in the comparison group" in result.output
    assert (tmp_path / "out").is_dir()


def test_render_strict_help_names_what_stops_it():
    text = " ".join(run("render", "--help").output.split())
    assert "or when no patient has the index diagnosis" in text


# ------------------------------------------------------ global options --

def test_quiet_silences_progress_before_or_after_the_command(tmp_path):
    dataset = write_csv_dataset(tmp_path / "data")
    for args in (("--quiet", "check", dataset), ("check", dataset, "-q")):
        result = run(*args)
        assert result.exit_code == 0 and "ketareport: reading" not in result.output
        assert "patients: 6" in result.output
    assert "ketareport: reading" in run("check", dataset).output


def test_every_command_takes_debug_and_quiet():
    for name, command in cli.main.commands.items():
        options = {option for param in command.params for option in getattr(param, "opts", [])}
        assert {"--debug", "--quiet"} <= options, name


def test_unexpected_error_in_demo_data_is_a_message_not_a_traceback(tmp_path, monkeypatch):
    from ketareport import demo

    def broken(*args, **kwargs):
        raise ValueError("generator broke")

    monkeypatch.setattr(demo, "write_demo", broken)
    result = run("demo-data", "--out", tmp_path / "d")
    assert result.exit_code == 1
    assert "unexpected error: ValueError: generator broke" in result.output and "Traceback" not in result.output
    debug = run("--debug", "demo-data", "--out", tmp_path / "d")
    assert isinstance(debug.exception, ValueError)


def test_config_used_round_trips_through_render_inputs(tmp_path):
    """The configuration a run used (results.json) is a study.yml that gives the same results."""
    dataset = write_csv_dataset(tmp_path / "data")
    (dataset / "study.yml").write_text(
        "study: {title: T, period: {start: 2005-01-01, end: 2008-12-31}}\n"
        "analysis: {index_diagnosis: Back-Pain, relief: {method: wilson}}\nlabels: {back pain: Low back pain}\n"
    )
    first = run("analyze", dataset, "--out", tmp_path / "one")
    assert first.exit_code == 0, first.output
    used = json.loads((tmp_path / "one" / "results.json").read_text())["config"]
    (tmp_path / "used.yml").write_text(yaml.safe_dump(used, sort_keys=False))
    second = run("analyze", dataset, "--out", tmp_path / "two", "--config", tmp_path / "used.yml")
    assert second.exit_code == 0, second.output
    assert (tmp_path / "one" / "estimates.csv").read_bytes() == (tmp_path / "two" / "estimates.csv").read_bytes()
    one, two = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("one", "two"))
    assert one["cohort"] == two["cohort"] and one["config"] == two["config"]
    assert one["cohort"]["diagnosis_labels"]["back_pain"] == "Low back pain"


def test_rerun_removes_files_the_previous_run_wrote_and_this_one_did_not(tmp_path):
    dataset = write_csv_dataset(tmp_path / "data")
    out = tmp_path / "out"
    assert run("analyze", dataset, "--out", out).exit_code == 0
    manifest = out / ".ketareport-manifest.json"
    # As if an earlier run had also written a report: listed in the manifest with its digest.
    (out / "old-report.pdf").write_bytes(b"%PDF old")
    (out / "mine.txt").write_text("the user's notes")
    files = json.loads(manifest.read_text())["files"]
    files["old-report.pdf"] = hashlib.sha256(b"%PDF old").hexdigest()
    manifest.write_text(json.dumps({"files": files}))
    assert run("analyze", dataset, "--out", out).exit_code == 0
    assert not (out / "old-report.pdf").exists() and (out / "mine.txt").exists()
    assert os.path.exists(out / "results.json")


def test_data_block_names_the_tables_and_columns_of_the_source(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "pts.csv").write_text(PATIENTS_CSV)
    (folder / "infusions.csv").write_text(INFUSIONS_CSV.replace("vas_pre", "VAS_before", 1))
    result = run("check", folder)
    assert result.exit_code == 2 and "holds no patients table: expected patients.csv" in result.output
    (folder / "study.yml").write_text("data: {patients: pts, columns: {vas_pre: VAS_before}}\n")
    result = run("check", folder)
    assert result.exit_code == 0, result.output
    assert "infusions: 10, of which 8 analysable" in result.output


@pytest.mark.parametrize("command", ["check", "analyze"])
def test_config_option_errors_properly_on_a_missing_file(tmp_path, command):
    dataset = write_csv_dataset(tmp_path / "data")
    out = ("--out", tmp_path / "out") if command == "analyze" else ()
    result = run(command, dataset, *out, "--config", tmp_path / "nowhere.yml")
    assert result.exit_code == 2
    assert "nowhere.yml: cannot be read (No such file or directory)" in result.output
    assert not (tmp_path / "out").exists()


def test_init_errors_properly_when_the_folder_is_a_file(tmp_path):
    (tmp_path / "study").write_text("a file")
    result = run("init", tmp_path / "study")
    assert result.exit_code == 2 and "is a file" in result.output


def test_debug_still_reports_invalid_input_as_a_message(tmp_path):
    dataset = write_csv_dataset(tmp_path / "data", PATIENTS_CSV.replace("P3,Back Pain,F,61", "P3,Back Pain,X,61"))
    result = run("--debug", "check", dataset)
    assert result.exit_code == 2 and "'X' must be F, M or blank" in result.output


def test_diff_errors_properly_on_folders_without_results(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    result = run("diff", tmp_path / "old", tmp_path / "new")
    assert result.exit_code == 2 and "Traceback" not in result.output
