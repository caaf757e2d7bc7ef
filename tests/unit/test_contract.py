"""The data contract: one diagnosis normaliser for data and configuration, one table of relief methods."""

from __future__ import annotations

import pandas as pd
import pytest

from ketareport import contract
from ketareport.config import load_config
from ketareport.load import load_dataset
from ketareport.validate import validate_dataset

from ..datasets import INFUSIONS_CSV, write_csv_dataset

SPELLINGS = {
    "-CRPS": "crps", " CRPS ": "crps", "Crps": "crps", "crps_": "crps",
    "Back Pain": "back_pain", "back-pain": "back_pain", "back - pain": "back_pain", "BACK__PAIN": "back_pain",
    "HIV neuropathy": "hiv_neuropathy", "Post-herpetic neuralgia": "post_herpetic_neuralgia",
}


@pytest.mark.parametrize("written, key", SPELLINGS.items())
def test_the_configuration_normalises_like_the_data(tmp_path, written, key):
    config_file = tmp_path / "study.yml"
    config_file.write_text(f'analysis: {{index_diagnosis: "{written}"}}\n')
    from_config = load_config(config_file).analysis.index_diagnosis

    patients = f"patient_id,diagnosis\nP1,{written}\n"
    infusions = INFUSIONS_CSV.splitlines()[0] + "\nI1,P1,2005-01-02,100,60,8,2,true,true,\n"
    dataset = validate_dataset(load_dataset(write_csv_dataset(tmp_path / "data", patients, infusions)))
    from_data = dataset.patients["diagnosis"].iat[0]

    assert from_config == from_data == key


def test_normaliser_keeps_missing_missing():
    keys = contract.normalise_diagnoses(pd.Series(["CRPS", None, "Headache"], dtype=object))
    assert keys.tolist() == ["crps", None, "headache"]


def test_display_label_is_the_most_frequent_spelling_ties_to_the_first_seen():
    written = pd.Series(["hiv Neuropathy", "HIV neuropathy", "HIV neuropathy", "Post-herpetic neuralgia",
                         "post herpetic neuralgia", "crps", "neuropathic_pain"])
    labels = contract.diagnosis_labels(contract.normalise_diagnoses(written), written)
    assert labels == {
        "hiv_neuropathy": "HIV neuropathy",
        "post_herpetic_neuralgia": "Post-herpetic neuralgia",
        "crps": "CRPS",
        "neuropathic_pain": "neuropathic pain",
    }


def test_labels_map_wins_over_canonical_and_written_spellings():
    written = pd.Series(["crps", "HIV neuropathy"])
    labels = contract.diagnosis_labels(
        contract.normalise_diagnoses(written), written, {"crps": "complex regional pain syndrome"},
    )
    assert labels == {"crps": "complex regional pain syndrome", "hiv_neuropathy": "HIV neuropathy"}


def test_every_relief_method_has_a_description_and_a_phrase():
    for name, method in contract.RELIEF_METHODS.items():
        assert method.name == name and method.description and method.phrase.startswith("the ")
    assert contract.DEFAULT_RELIEF_METHOD in contract.RELIEF_METHODS


def test_column_names_are_unique_within_each_table():
    for columns in contract.TABLES.values():
        names = [column.name for column in columns]
        assert len(names) == len(set(names))
    assert contract.ANALYSIS_COLUMNS == ("ketamine_dose_mg", "infusion_duration_min", "vas_pre", "vas_post")


def test_a_diagnosis_of_separators_only_is_invalid_data(tmp_path):
    from ketareport.errors import DatasetInvalid

    patients = "patient_id,diagnosis\nP1,crps\nP2, - \n"
    infusions = INFUSIONS_CSV.splitlines()[0] + "\nI1,P1,2005-01-02,100,60,8,2,true,true,\n"
    with pytest.raises(DatasetInvalid) as error:
        validate_dataset(load_dataset(write_csv_dataset(tmp_path / "data", patients, infusions)))
    assert "row 2 (line 3), column diagnosis: '-' names no diagnosis" in error.value.report()


def test_diagnoses_resembling_the_index_diagnosis_are_named():
    written = ["CRPS", "CRPS type I", "type 2 CRPS", "Complex regional pain syndrome", "C.R.P.S.", "crps1", "CRPS-II",
               "RSD", "Reflex sympathetic dystrophy", "crpsx", "headache", "back pain", "LBP"]
    keys = [contract.normalise_diagnosis(label) for label in written]
    assert contract.index_look_alikes(keys, "crps") == [
        "crps_type_i", "type_2_crps", "complex_regional_pain_syndrome", "c.r.p.s.", "crps1", "crps_ii", "rsd",
        "reflex_sympathetic_dystrophy",
    ]
    assert contract.index_look_alikes(["head_ache", "headache", "migraine"], "headache") == ["head_ache"]
    assert contract.index_look_alikes(["back_pain", "low_back_pain", "back", "pain"], "back_pain") == ["low_back_pain"]
