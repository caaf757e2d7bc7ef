"""The command line end to end: exit codes, messages, and all-or-nothing output."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from ketareport import cli
from ketareport.output import MANIFEST

from ..conftest import REPO
from ..datasets import INFUSIONS_CSV, PATIENTS_CSV, with_cell, write_csv_dataset


def ketareport(*args, cwd=None):
    """Run the installed command as a user would."""
    return subprocess.run([sys.executable, "-m", "ketareport", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()} | {
        p.relative_to(folder): "dir" for p in folder.rglob("*") if p.is_dir()
    }


@pytest.mark.slow
def test_analyze_writes_the_three_result_files(tmp_path):
    dataset = write_csv_dataset(tmp_path / "data")
    out = tmp_path / "new" / "results"
    completed = ketareport("analyze", dataset, "--out", out)
    assert completed.returncode == 0, completed.stderr
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "estimates.csv", "results.json", "results.rds"]
    assert completed.stdout.split() == [str(out / name) for name in ("estimates.csv", "results.json", "results.rds")]
    assert "ketareport: validating 6 patients and 10 infusions" in completed.stderr
    assert "2 excluded for missing data" in completed.stderr


@pytest.mark.slow
def test_invalid_dataset_exits_2_lists_every_problem_and_writes_nothing(tmp_path):
    infusions = with_cell(with_cell(INFUSIONS_CSV, 1, "vas_pre", "11"), 4, "patient_id", "P404")
    patients = with_cell(PATIENTS_CSV, 3, "sex", "X")
    dataset = write_csv_dataset(tmp_path / "data", patients, infusions)
    out = tmp_path / "out"
    out.mkdir()
    (out / "estimates.csv").write_text("previous run\n")
    before = snapshot(tmp_path)
    completed = ketareport("analyze", dataset, "--out", out)
    assert completed.returncode == 2
    assert "The dataset has 3 problems:" in completed.stderr
    assert "infusions.csv row 1 (line 2), column vas_pre: 11 is outside 0 to 10" in completed.stderr
    assert "infusions.csv row 4 (line 5), column patient_id: 'P404' is not a patient_id in patients.csv" in completed.stderr
    assert "patients.csv row 3 (line 4), column sex: 'X' must be F, M or blank" in completed.stderr
    assert "Nothing was written." in completed.stderr
    assert "Traceback" not in completed.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.slow
def test_invalid_config_exits_2(tmp_path):
    dataset = write_csv_dataset(tmp_path / "data")
    (dataset / "study.yml").write_text("analysis: {conf_level: 95}\n")
    completed = ketareport("analyze", dataset, "--out", tmp_path / "out")
    assert completed.returncode == 2
    assert "study.yml: analysis.conf_level is 95; must be strictly between 0 and 1" in completed.stderr
    assert not (tmp_path / "out").exists()


def test_failure_while_writing_leaves_the_directory_as_it_was(tmp_path, monkeypatch):
    dataset = write_csv_dataset(tmp_path / "data")
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text("{}")
    before = snapshot(tmp_path)

    def broken(path, document, frames):
        path.write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr("ketareport.pipeline.write_results_rds", broken)
    result = CliRunner().invoke(cli.main, ["analyze", str(dataset), "--out", str(out)])
    assert result.exit_code == 1
    assert "unexpected error: OSError: disk full" in result.output
    assert "Run again with --debug" in result.output
    assert snapshot(tmp_path) == before


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    dataset = write_csv_dataset(tmp_path / "data")

    def broken(cohort):
        raise RuntimeError("boom")

    monkeypatch.setattr("ketareport.pipeline.analyze_cohort", broken)
    result = CliRunner().invoke(cli.main, ["analyze", str(dataset), "--out", str(tmp_path / "o"), "--debug"])
    assert isinstance(result.exception, RuntimeError)


def test_help_explains_every_option():
    runner = CliRunner()
    top = runner.invoke(cli.main, ["--help"]).output
    for command in cli.main.commands:
        assert command in top
        text = runner.invoke(cli.main, [command, "--help"]).output
        assert "Example" in text, command
        for parameter in cli.main.commands[command].params:
            if isinstance(parameter, __import__("click").Option):
                assert parameter.help, f"{command} {parameter.name} has no help"
                assert parameter.opts[0] in text


@pytest.mark.skipif(os.name != "posix", reason="console script path")
def test_console_script_is_installed():
    completed = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ketareport"), "--version"], capture_output=True, text=True)
    assert completed.returncode == 0 and "ketareport" in completed.stdout


@pytest.mark.parametrize("epoch", ["", "yesterday"])
def test_malformed_source_date_epoch_is_an_input_error(tmp_path, epoch, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    completed = subprocess.run([sys.executable, "-m", "ketareport", "analyze", "data/demo", "--out", str(tmp_path / "out")],
                               capture_output=True, text=True, cwd=REPO)
    assert completed.returncode == 2
    assert "SOURCE_DATE_EPOCH" in completed.stderr and "Traceback" not in completed.stderr
    assert not (tmp_path / "out").exists()
