"""Arrow's CSV reader gives exactly the frame pandas' text reading gave, or steps aside."""

from __future__ import annotations

import pandas as pd
import pytest

from ketareport.load import _read_csv_in_arrow

CASES = {
    "plain": "a,b\n1,x\n2,\n",
    "byte-order mark and CRLF": "\ufeffa,b\r\n1,x\r\n 2 ,NA\r\n",
    "quoted commas, quotes and newlines": 'a,b\n"1,5","say ""hi"""\n"two\nlines",""\n',
    "header only": "a,b\n",
    "blank lines": "a,b\n1,x\n\n2,y\n\n",
    "accents": "patient_id,diagnosis\nP1,algodystrophie réflexe\n",
}


@pytest.mark.parametrize("case", CASES)
def test_the_same_frame_as_pandas(case, tmp_path):
    file = tmp_path / "t.csv"
    file.write_bytes(CASES[case].encode("utf-8"))
    expected = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert _read_csv_in_arrow(file).equals(expected)


@pytest.mark.parametrize("content", [b"a,a\n1,2\n", b"a,b\n1,\xff\n", b"a,b\n1,2,3\n", b""])
def test_what_arrow_reads_differently_is_left_to_pandas(content, tmp_path):
    file = tmp_path / "t.csv"
    file.write_bytes(content)
    assert _read_csv_in_arrow(file) is None
