"""results.json is json.dumps(indent=2, ensure_ascii=False) to the byte, long lists of ids included."""

from __future__ import annotations

import json

from ketareport.results import LONG_TEXT_LIST, results_json


def test_long_text_lists_are_written_as_json_writes_them():
    ids = [f"I{number:05d}" for number in range(LONG_TEXT_LIST * 3)]
    document = {
        "cohort": {"excluded_infusion_ids": ids, "not_analyzed_patient_ids": ["P1", "P2"], "n": 3},
        'odd "key": ': [*ids[:100], 'quote " and \\ backslash', "é—日\u2028", "\x00"],
        "nested": [{"ids": ids}, ids, []],
        "short": ids[:LONG_TEXT_LIST],
        "empty": [],
        "mixed": [*ids, 1, None],
    }
    assert results_json(document) == json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
