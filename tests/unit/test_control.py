"""Document control: when a report is a draft, what its title block and footer say, and the report date."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from ketareport.config import parse_config
from ketareport.present.appendix import config_options
from ketareport.present.control import document_control

COMPLETE_STUDY = {
    "title": "A study", "authors": [{"name": "A. Author"}], "review_board": "IRB approval 1",
    "period": {"start": "2004-01-01", "end": "2009-12-31"}, "protocol": "IRB 2010-123",
}
DIGEST = "0123456789abcdef" * 4
GENERATED_AT = "2012-03-01T00:00:00+00:00"


def run_with(raw: dict, *, from_file: bool = True):
    """What document_control reads from a run: the configuration and the provenance."""
    config = parse_config(raw, "study.yml", source=Path("study.yml") if from_file else None)
    provenance = SimpleNamespace(generated_at=GENERATED_AT, dataset=SimpleNamespace(digest=DIGEST))
    return SimpleNamespace(config=config, provenance=provenance)


def test_a_complete_final_configuration_gives_a_final_report():
    control = document_control(run_with({"study": COMPLETE_STUDY, "report": {
        "status": "final", "version": "1.2", "date": "2012-01-31", "data_lock": "2011-12-15"}}))
    assert (control.draft, control.status) == (False, "Final")
    assert (control.version, control.report_date, control.data_lock, control.protocol) == (
        "1.2", "31 January 2012", "15 December 2011", "IRB 2010-123")
    assert control.data_digest == DIGEST[:12]


def test_final_with_metadata_missing_stays_a_draft():
    study = {key: value for key, value in COMPLETE_STUDY.items() if key != "authors"}
    control = document_control(run_with({"study": study, "report": {"status": "final"}}))
    assert control.draft and control.status == "Draft"


def test_the_default_is_a_draft_dated_by_the_generation_time():
    control = document_control(run_with({"study": COMPLETE_STUDY}))
    assert control.draft
    assert (control.report_date, control.version, control.data_lock) == ("1 March 2012", "not stated", "not stated")


def test_the_built_in_defaults_are_a_draft():
    control = document_control(run_with({}, from_file=False))
    assert control.draft and control.protocol == "not stated"


def test_configuration_options_are_named_as_in_study_yml():
    rows = config_options({"study": {"authors": [{"name": "A", "affiliation": "X"}], "keywords": ["a", "b"]},
                           "analysis": {"sensitivity_model": True, "relief": {"conf_level": 0.9}}})
    assert [(row.kind, row.label, row.cells) for row in rows] == [
        ("section", "study", []), ("row", "authors[1].name", ["A"]), ("row", "authors[1].affiliation", ["X"]),
        ("row", "keywords", ["a, b"]),
        ("section", "analysis", []), ("row", "sensitivity_model", ["true"]), ("row", "relief.conf_level", ["0.9"]),
    ]
