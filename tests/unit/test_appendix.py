"""The appendix's account of the R cross-check says what is done with the comparison, with and without suppression."""

from __future__ import annotations

import pytest

from ketareport.pipeline import run_analysis
from ketareport.present.build import build_context, gather_facts
from ketareport.present.suppress import suppress_context, with_threshold
from ketareport.report import data_files
from ketareport.verify import VerificationReport, VerificationRow

from ..datasets import write_csv_dataset

WRITTEN = "The comparison is also written as verification.csv beside this report, and attached to the PDF."


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return run_analysis(write_csv_dataset(tmp_path_factory.mktemp("appendix") / "data"))


def verification(agrees: bool) -> VerificationReport:
    row = VerificationRow("vas_reduction/overall/estimate", 1.0, 1.0 if agrees else 2.0, 0.0 if agrees else 1.0,
                          1e-9, agrees)
    return VerificationReport([row], "4.2.2", {"lme4": "1.1"})


@pytest.mark.parametrize("agrees", [True, False])
def test_without_suppression_the_comparison_is_attached_and_written_as_said(run, agrees):
    checked = verification(agrees)
    context = build_context(run, checked)
    assert WRITTEN in context.appendix.verification_summary
    assert "verification.csv" in context.appendix.attached_files
    # report.write writes each of these beside the report, and the PDF carries them.
    assert "verification.csv" in {file.name for file in data_files(run, checked, context)}
    assert context.appendix.verification_table is not None
    assert ("marked below" in context.appendix.verification_summary) is not agrees


@pytest.mark.parametrize("agrees", [True, False])
def test_under_suppression_the_appendix_does_not_claim_verification_csv(run, agrees):
    protected, checked = with_threshold(run, 5), verification(agrees)
    facts = gather_facts(protected)
    context = suppress_context(protected, build_context(protected, checked, facts=facts), facts.decisions)
    summary = context.appendix.verification_summary
    assert "verification.csv" not in context.appendix.attached_files
    assert "verification.csv" not in {file.name for file in data_files(protected, checked, context)}
    assert context.appendix.verification_table is None
    assert WRITTEN not in summary and "marked below" not in summary
    assert "is not printed, written beside this report or attached to the PDF" in summary
