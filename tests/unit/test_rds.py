"""ketareport.rds: text columns written whole-array, read back by an independent reader (pyreadr)."""

from __future__ import annotations

import pandas as pd
import pyreadr
import pytest

from ketareport import rds

TEXTS = ["P001", None, "", "é", "日本", "a—b", "plain ascii", None, "x" * 300]


@pytest.mark.parametrize("dtype", ["string[python]", "string[pyarrow]", object])
@pytest.mark.parametrize("short_list", [0, rds.SHORT_LIST])  # through Arrow in pieces; string by string
def test_text_columns_round_trip_with_na_and_utf8_across_pieces(tmp_path, monkeypatch, dtype, short_list):
    monkeypatch.setattr(rds, "STRING_CHUNK", 4)  # pieces that split the column, and one that ends mid-way
    monkeypatch.setattr(rds, "SHORT_LIST", short_list)
    column = pd.Series(TEXTS * 3, dtype=dtype)
    path = tmp_path / "frame.rds"
    rds.write_rds(path, pd.DataFrame({"text": column.iloc[2:].reset_index(drop=True)}))
    read = pyreadr.read_r(str(path))[None]["text"]
    expected = [None if value is None else value for value in (TEXTS * 3)[2:]]
    assert [None if pd.isna(value) else value for value in read] == expected


def test_a_list_of_text_is_a_character_vector(tmp_path):
    import rdata

    path = tmp_path / "list.rds"
    rds.write_rds(path, {"groups": ["CRPS", "Other diagnoses", "Ünïcode", ""]})
    read = rdata.read_rds(path)
    assert [str(value) for value in read["groups"]] == ["CRPS", "Other diagnoses", "Ünïcode", ""]


def test_a_long_list_of_text_goes_through_arrow_with_the_same_result(tmp_path):
    import rdata

    ids = [f"I{number:05d}{'é' if number % 7 == 0 else ''}" for number in range(rds.SHORT_LIST * 3)]
    path = tmp_path / "ids.rds"
    rds.write_rds(path, {"excluded_infusion_ids": ids, "few": ids[:3]})
    read = rdata.read_rds(path)
    assert [str(value) for value in read["excluded_infusion_ids"]] == ids
    assert [str(value) for value in read["few"]] == ids[:3]


def test_a_column_is_the_same_bytes_string_by_string_and_through_arrow(monkeypatch):
    column = pd.Series(TEXTS * 3, dtype="string[pyarrow]")
    by_string, through_arrow = [], []
    rds._string_elements(by_string, column)
    monkeypatch.setattr(rds, "SHORT_LIST", 0)
    rds._string_elements(through_arrow, column)
    assert b"".join(by_string) == b"".join(through_arrow)
