"""cohort.build_cohort: exclusions, patient means, groups and printed diagnosis labels, on a small dataset."""

from __future__ import annotations

import math

import pytest

from ketareport.cohort import build_cohort
from ketareport.config import AnalysisOptions
from ketareport.load import load_dataset
from ketareport.validate import validate_dataset

from ..datasets import write_csv_dataset

INFUSION_HEADER = "infusion_id,patient_id,infusion_date,ketamine_dose_mg,infusion_duration_min,vas_pre,vas_post"


def cohort_of(tmp_path, patients: str, infusions: str, options=AnalysisOptions(), labels=None):
    folder = write_csv_dataset(tmp_path / "data", patients, infusions)
    return build_cohort(validate_dataset(load_dataset(folder)), options, labels)


@pytest.fixture
def cohort(tmp_path):
    patients = "patient_id,diagnosis\nA,CRPS\nB,HIV neuropathy\nC,hiv-neuropathy\nD,HIV Neuropathy\n"
    infusions = "\n".join([
        INFUSION_HEADER,
        "1,A,2005-01-01,100,60,8,2",
        "2,A,2005-02-01,100,60,7,3",
        "3,B,2005-03-01,100,,6,1",      # missing duration: excluded
        "4,B,2005-04-01,,,6,",          # three columns missing: excluded once
        "5,C,2005-05-01,100,60,3,7",    # VAS rose
    ]) + "\n"
    return cohort_of(tmp_path, patients, infusions)


def test_infusions_missing_an_analysis_column_are_excluded_with_the_columns_named(cohort):
    infusions = cohort.infusions.set_index("infusion_id")
    assert infusions["excluded"].to_dict() == {"1": False, "2": False, "3": True, "4": True, "5": False}
    assert infusions.loc["3", "missing_columns"] == "infusion_duration_min"
    assert infusions.loc["4", "missing_columns"] == "ketamine_dose_mg;infusion_duration_min;vas_post"
    assert math.isnan(infusions.loc["3", "reduction"]) and infusions.loc["5", "reduction"] == -4


def test_a_patients_reduction_is_the_mean_over_analysed_infusions(cohort):
    patients = cohort.patients.set_index("patient_id")
    assert patients.loc["A", "reduction"] == pytest.approx((6 + 4) / 2)
    assert math.isnan(patients.loc["B", "reduction"])  # no analysed infusion
    assert patients["n_infusions"].to_dict() == {"A": 2, "B": 2, "C": 1, "D": 0}
    assert patients["n_infusions_analyzed"].to_dict() == {"A": 2, "B": 0, "C": 1, "D": 0}
    assert cohort.analyzed_patients["patient_id"].tolist() == ["A", "C"]
    assert len(cohort.analyzed_infusions) == 3


def test_index_group_follows_the_normalised_diagnosis(cohort):
    assert cohort.patients.set_index("patient_id")["is_index"].to_dict() == {"A": True, "B": False, "C": False, "D": False}
    assert cohort.infusions.set_index("infusion_id")["is_index"].to_dict() == {
        "1": True, "2": True, "3": False, "4": False, "5": False,
    }


def test_an_index_diagnosis_from_the_configuration_selects_the_group(tmp_path):
    patients = "patient_id,diagnosis\nA,CRPS\nB,HIV neuropathy\n"
    infusions = INFUSION_HEADER + "\n1,A,2005-01-01,100,60,8,2\n2,B,2005-01-01,100,60,8,2\n"
    cohort = cohort_of(tmp_path, patients, infusions, AnalysisOptions(index_diagnosis="HIV-Neuropathy"))
    assert cohort.patients["is_index"].tolist() == [False, True]


def test_diagnoses_print_as_written_in_the_data(cohort):
    assert cohort.diagnosis_labels == {"crps": "CRPS", "hiv_neuropathy": "HIV neuropathy"}


def test_diagnoses_print_as_study_yml_maps_them(tmp_path):
    patients = "patient_id,diagnosis\nA,Post-herpetic neuralgia\nB,post herpetic neuralgia\nC,crps\n"
    infusions = INFUSION_HEADER + "\n1,A,2005-01-01,100,60,8,2\n"
    cohort = cohort_of(tmp_path, patients, infusions, labels={"crps": "Complex regional pain syndrome"})
    assert cohort.diagnosis_labels == {
        "post_herpetic_neuralgia": "Post-herpetic neuralgia", "crps": "Complex regional pain syndrome",
    }


def test_no_infusions_at_all_gives_an_empty_analysis(tmp_path):
    cohort = cohort_of(tmp_path, "patient_id,diagnosis\nA,crps\n", INFUSION_HEADER + "\n")
    assert cohort.analyzed_infusions.empty and cohort.analyzed_patients.empty
    assert cohort.patients["n_infusions"].tolist() == [0]
