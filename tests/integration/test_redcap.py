"""`ketareport import-redcap`: a REDCap-shaped export in, a dataset that analyses like its source out."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from ketareport import cli
from ketareport.config import load_config
from ketareport.pipeline import run_analysis
from ketareport.redcap import import_redcap, parse_choices

from ..conftest import DEMO
from ..datasets import write_csv_dataset
from ..redcap_export import RENAMED, export_of

MAP_OPTIONS = [f"--map={column}={field}" for column, field in RENAMED.items()]


def run_import(records, dictionary, out, *extra):
    return CliRunner().invoke(cli.main, ["import-redcap", str(records), "--dictionary", str(dictionary),
                                         "--out", str(out), *MAP_OPTIONS, *extra])


def test_parse_choices_keeps_commas_inside_labels():
    assert parse_choices("1, CRPS | 2, Back pain, lumbar |3,Other") == {"1": "CRPS", "2": "Back pain, lumbar", "3": "Other"}


@pytest.mark.slow
@pytest.mark.parametrize("date_validation", ["date_ymd", "date_mdy", "date_dmy"])
def test_demo_through_redcap_analyses_like_the_demo(tmp_path, date_validation):
    records, dictionary = export_of(DEMO, date_validation=date_validation).write(tmp_path / "export")
    out = tmp_path / "imported"
    result = run_import(records, dictionary, out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["infusions.csv", "patients.csv", "study.yml"]
    load_config(out / "study.yml")  # a valid configuration
    imported, original = run_analysis(out).results, run_analysis(DEMO, DEMO / "study.yml").results
    assert imported.estimates() == original.estimates()
    assert imported.patient_characteristics == original.patient_characteristics
    assert imported.infusion_characteristics == original.infusion_characteristics
    source = pd.read_csv(DEMO / "infusions.csv", dtype=str, keep_default_na=False)
    written = pd.read_csv(out / "infusions.csv", dtype=str, keep_default_na=False)
    assert written["infusion_date"].tolist() == source["infusion_date"].tolist()
    assert written["infusion_id"].iloc[0] == f"{source['patient_id'].iloc[0]}-1"


def test_study_yml_says_where_each_column_came_from(tmp_path):
    records, dictionary = export_of(DEMO).write(tmp_path / "export")
    run_import(records, dictionary, tmp_path / "out")
    text = (tmp_path / "out" / "study.yml").read_text()
    assert "#   patients.diagnosis <- dx (radio)" in text
    assert "#   infusions.vas_pre <- pain_before (text, number)" in text
    assert "repeating instrument infusion" in text


def test_labels_export_and_checkbox_labels(tmp_path):
    """REDCap's "labels" export: choices as labels, checkboxes as Checked/Unchecked."""
    dataset = write_csv_dataset(tmp_path / "data")
    export = export_of(dataset, date_validation="date_ymd")
    records = export.records
    dx_labels = {code: label for code, label in parse_choices(export.dictionary_rows[1]["Choices, Calculations, OR Slider Labels"]).items()}
    records["dx"] = records["dx"].map(lambda code: dx_labels.get(code, code))
    checkbox = [c for c in records.columns if c.startswith("previous_interventions___")]
    records[checkbox] = records[checkbox].replace({"1": "Checked", "0": "Unchecked"})
    records_path, dictionary_path = export.write(tmp_path / "export")
    result = import_redcap(records_path, dictionary_path, field_map=RENAMED)
    assert result.patients["diagnosis"].tolist()[:3] == ["CRPS", "CRPS", "Back pain"]
    assert result.patients["previous_interventions"].iloc[0] == "Nerve block;Opioids"


def test_problems_name_the_record_the_field_and_the_line(tmp_path):
    export = export_of(DEMO)
    records = export.records
    first_infusion = records.index[records["redcap_repeat_instrument"] == "infusion"][0]
    record = records.at[first_infusion, "record_id"]
    records.at[first_infusion, "pain_before"] = "11"
    records.at[first_infusion, "infusion_date"] = "31/12/2006"  # D/M/Y where the validation is date_mdy
    records.at[0, "dx"] = "99"
    records.at[0, "previous_interventions___1"] = "maybe"
    records_path, dictionary_path = export.write(tmp_path / "export")
    out = tmp_path / "out"
    result = run_import(records_path, dictionary_path, out)
    assert result.exit_code == 2
    line = first_infusion + 2
    assert f"records.csv row {line - 1} (line {line}), column pain_before: record {record}, infusion instance 1: 11 is outside 0 to 10" in result.output
    assert f"column infusion_date: record {record}, infusion instance 1: '31/12/2006' is not a date YYYY-MM-DD or M/D/YYYY (validation date_mdy)" in result.output
    assert f"records.csv row 1 (line 2), column dx: record {records.at[0, 'record_id']}: '99' is not a choice of dx (1, " in result.output
    assert "column previous_interventions___1: record" in result.output and "'maybe' is not a checkbox state" in result.output
    assert "The dataset has 4 problems" in result.output
    assert "Nothing was written." in result.output
    assert not out.exists()


def test_unknown_mapped_field_and_missing_dictionary_columns(tmp_path):
    records, dictionary = export_of(DEMO).write(tmp_path / "export")
    result = run_import(records, dictionary, tmp_path / "out", "--map", "sex=gender")
    assert result.exit_code == 2
    assert "dictionary.csv: has no field gender (mapped from the column sex)" in result.output
    dictionary.write_text("name,form\nrecord_id,patient\n")
    result = run_import(records, dictionary, tmp_path / "out")
    assert result.exit_code == 2
    assert "is not a REDCap data dictionary: column 'Variable / Field Name' is absent" in result.output


def test_a_required_column_with_no_field_asks_for_a_map_once(tmp_path):
    """Without --map the renamed fields match no column: one problem per column naming --map, not one per record."""
    records, dictionary = export_of(DEMO).write(tmp_path / "export")
    result = CliRunner().invoke(cli.main, ["import-redcap", str(records), "--dictionary", str(dictionary),
                                           "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    required = [column for column in RENAMED if column in ("diagnosis", "infusion_date", "ketamine_dose_mg",
                                                           "infusion_duration_min", "vas_pre", "vas_post")]
    assert required, RENAMED
    for column in required:
        assert result.output.count(f"has no field named {column}: give its REDCap field with --map {column}=FIELD") == 1
    assert "is empty but required" not in result.output
    assert not (tmp_path / "out").exists()
