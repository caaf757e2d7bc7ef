"""The demo dataset, run through the engine, reproduces the published abstract.

The published figures (Pain Med. 2012;13(2):263-9; the PubMed record is
kept in tests/reference/) are compared at the precision the abstract prints:
one decimal for means, two for SEs, P as "< 0.001" or three decimals,
whole percents.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ketareport.pipeline import run_analysis

from ..conftest import DEMO

# The PubMed record sets "P < 0.001" with em spaces (U+2003); read them as spaces.
ABSTRACT = (Path(__file__).parents[1] / "reference" / "abstract-pain-med-2012.txt").read_text().replace("\u2003", " ")


def one_decimal(value: float) -> str:
    return f"{value:.1f}"


def two_decimals(value: float) -> str:
    return f"{value:.2f}"


def p_value(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"= {value:.3f}"


def percent(proportion: float) -> str:
    return f"{100 * proportion:.0f}"


@pytest.fixture(scope="module")
def results():
    return run_analysis(DEMO).results


# (what, published text in the abstract, how the engine's result reads at the abstract's precision)
ROWS = [
    ("patients", "We identified 49 patients", lambda r: f"We identified {r.cohort.n_patients} patients"),
    ("infusions", "undergoing 369 outpatient ketamine infusions", lambda r: f"undergoing {r.cohort.n_infusions} outpatient ketamine infusions"),
    ("excluded", "We excluded 36 infusions because of missing data", lambda r: f"We excluded {r.cohort.n_infusions_excluded} infusions because of missing data"),
    ("CRPS patients", "18 (37%) had a diagnosis of complex regional pain syndrome",
     lambda r: f"{r.cohort.n_index} ({percent(r.cohort.index_percent / 100)}%) had a diagnosis of complex regional pain syndrome"),
    ("other patients", "the remaining 31 (63%) patients",
     lambda r: f"the remaining {r.cohort.n_comparison} ({percent(r.cohort.comparison_percent / 100)}%) patients"),
    ("headache / back pain", "eight had refractory headaches and seven had severe back pain",
     lambda r: f"{NUMBER_WORDS[r.cohort.diagnoses['headache']]} had refractory headaches and "
               f"{NUMBER_WORDS[r.cohort.diagnoses['back_pain']]} had severe back pain"),
    ("VAS all patients", "reduction in VAS score of 5.9 (standard error [SE] 0.35)",
     lambda r: f"reduction in VAS score of {one_decimal(r.vas.overall.estimate)} (standard error [SE] {two_decimals(r.vas.overall.std_error)})"),
    ("VAS CRPS", "reduction in VAS score was 7.2 (SE 0.51, P < 0.001)",
     lambda r: f"reduction in VAS score was {one_decimal(r.vas.index.estimate)} (SE {two_decimals(r.vas.index.std_error)}, P {p_value(r.vas.index.p_value)})"),
    ("VAS others", "the reduction was 5.1 (SE 0.40, P < 0.001)",
     lambda r: f"the reduction was {one_decimal(r.vas.comparison.estimate)} (SE {two_decimals(r.vas.comparison.std_error)}, P {p_value(r.vas.comparison.p_value)})"),
    ("difference", "The difference of 2.1 between groups was statistically significant (SE 0.64, P = 0.002)",
     lambda r: f"The difference of {one_decimal(r.vas.difference.estimate)} between groups was statistically significant "
               f"(SE {two_decimals(r.vas.difference.std_error)}, P {p_value(r.vas.difference.p_value)})"),
    ("relief recorded", "In 29 patients, we recorded the duration of pain relief",
     lambda r: f"In {r.relief.n_recorded} patients, we recorded the duration of pain relief"),
    ("lasting relief", "the probability of lasting pain relief in patients with refractory pain states was 59-85%",
     lambda r: "the probability of lasting pain relief in patients with refractory pain states was "
               f"{percent(r.relief.outcomes[0].conf_low)}-{percent(r.relief.outcomes[0].conf_high)}%"),
    ("relief over 3 weeks", "(23-51% relief over 3 weeks)",
     lambda r: f"({percent(r.relief.outcomes[1].conf_low)}-{percent(r.relief.outcomes[1].conf_high)}% relief over 3 weeks)"),
]
NUMBER_WORDS = dict(enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]))


@pytest.mark.parametrize("what, published, from_results", ROWS, ids=[row[0] for row in ROWS])
def test_demo_reproduces_the_abstract(results, what, published, from_results):
    assert published in ABSTRACT, f"{what}: not the abstract's wording"
    assert from_results(results) == published


def test_all_patients_premedicated(results):
    assert "All patients were pretreated with midazolam and ondansetron" in ABSTRACT
    assert results.cohort.all_premedicated


def test_difference_is_significant_at_the_papers_level(results):
    assert results.vas.difference.p_value < 0.05 and results.vas.difference.conf_low > 0


def test_relief_uses_the_bernoulli_model_at_90_percent(results):
    lasting, long = results.relief.outcomes
    assert (lasting.method, lasting.conf_level) == ("bernoulli", 0.90)
    # One of the 29 recorded durations is censored before 7 days: 28 evaluable.
    assert (lasting.n_evaluable, lasting.x, long.n_evaluable, long.x) == (28, 21, 28, 10)
