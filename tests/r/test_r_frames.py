"""The data frames of results.rds (ketareport/r_frames.py), read in R: the data behind the estimates."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ketareport import cli

from ..conftest import DEMO
from ..datasets import write_csv_dataset

pytestmark = pytest.mark.r

# Prints, one per line: the frames' column names and types, their row counts, the mean of the patient
# means at 17 digits, each analysed infusion's reduction check, and Table 1's "All" counts of the first
# section, so that Python can compare them with results.json.
R_FRAMES = r"""
res <- readRDS(file.path(commandArgs(TRUE)[1], "results.rds"))
for (name in c("characteristics_long", "analysed_infusions", "patient_means")) {
  frame <- res[[name]]
  stopifnot(is.data.frame(frame))
  cat(name, paste(names(frame), vapply(frame, typeof, ""), sep = ":", collapse = " "), nrow(frame), "\n")
}
inf <- res$analysed_infusions
stopifnot(isTRUE(all.equal(inf$reduction, inf$vas_pre - inf$vas_post)), !anyNA(inf$reduction))
pm <- res$patient_means
stopifnot(identical(sort(unique(inf$patient_id)), sort(pm$patient_id)))
by_patient <- tapply(inf$reduction, inf$patient_id, mean)
stopifnot(isTRUE(all.equal(as.vector(by_patient[pm$patient_id]), pm$mean_reduction)))
stopifnot(identical(as.integer(table(inf$patient_id)[pm$patient_id]), pm$n_infusions))
cat("overall", sprintf("%.17g", mean(pm$mean_reduction)), "\n")
cl <- res$characteristics_long
stopifnot(!anyNA(cl$table), !anyNA(cl$statistic))
first <- cl[cl$table == "patients" & cl$section == cl$section[1] & cl$group == cl$group[nrow(cl)] & cl$statistic == "n", ]
cat("first_section", paste(first$label, first$value, sep = "=", collapse = ";"), "\n")
"""


@pytest.mark.parametrize("dataset", ["demo", "small"])
def test_results_rds_frames_hold_the_data_behind_the_estimates(dataset, tmp_path, run_r):
    source = DEMO if dataset == "demo" else write_csv_dataset(tmp_path / "data")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli.main, ["analyze", str(source), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    lines = dict(line.split(" ", 1) for line in run_r(R_FRAMES, str(out)).splitlines())
    assert lines["characteristics_long"].split()[:6] == [
        "table:character", "section:character", "label:character", "group:character", "statistic:character",
        "value:double"]
    assert lines["analysed_infusions"].split()[-1] == str(results["cohort"]["n_infusions_analyzed"])
    assert lines["patient_means"].split()[-1] == str(results["cohort"]["n_patients_analyzed"])
    assert "n_infusions:integer" in lines["patient_means"]
    overall = next(row for row in results["estimates"] if row["analysis"] == "vas_reduction" and row["term"] == "overall")
    assert float(lines["overall"]) == pytest.approx(overall["estimate"], rel=1e-13)
    table = results["characteristics"]["patients"]
    all_column = table["columns"][-1]["key"]
    section = table["rows"][0]["section"]
    expected = ";".join(f"{row['label']}={row['cells'][all_column]['n']}" for row in table["rows"]
                        if row["section"] == section)
    assert lines["first_section"].strip() == expected
