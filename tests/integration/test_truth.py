"""Every generated sentence is true for the data it describes: a property-based test.

Hypothesis draws the *shape* of a study (1 to 300 patients, index groups of
0, 1, 2 or many patients, missing values, patients whose VAS rose,
significant and non-significant differences, constant groups, optional
columns absent); numpy draws the values from a seed. For every dataset:

- the analysis succeeds, or refuses with "nothing to analyse" (exit status 2) only when every infusion misses a value;
- each sentence of the abstract, results and conclusions passes its truth
  predicate, evaluated from results.json ("significant" only when P < alpha,
  "all patients" only when true, "larger" only for a positive difference ...);
- every number printed in those sections is a value of results.json (or of the
  configuration) as the engine formats it;
- nothing leaks: no "None", "nan", a lone "–" for a missing value, "0 infusions",
  a doubled space or a plural after 1.

CI runs 200 examples (the ``ci`` profile, selected when CI is set); a user's
run takes 30.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ketareport.errors import NothingToAnalyse
from ketareport.pipeline import run_analysis
from ketareport.present.build import build_context, gather_facts
from ketareport.present.suppress import suppress_context, with_threshold
from ketareport.present.formats import (
    format_count,
    format_mean,
    format_p,
    format_percent,
    format_proportion,
    format_se,
)
from ketareport.results import results_json

pytestmark = pytest.mark.slow  # seconds per example, 200 examples in CI

# No shrinking: a shape is a dozen parameters, readable as drawn, and shrinking whole renders takes minutes.
_PHASES = (Phase.explicit, Phase.reuse, Phase.generate)
settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True, phases=_PHASES,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("user", max_examples=30, deadline=None, phases=_PHASES,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile("ci" if os.environ.get("CI") else "user")

INDEX_SPELLINGS = ("CRPS", "crps", " Crps ", "CRPS")
OTHER_DIAGNOSES = ("Headache", "Back pain", "back-pain", "Fibromyalgia", "HIV neuropathy", "Post-herpetic neuralgia", "other")
SIDE_EFFECTS = ("nausea", "dizziness", "sedation", "hallucinations")
INTERVENTIONS = ("nerve block", "opioids", "spinal cord stimulation")


@st.composite
def study_shapes(draw):
    return {
        "n_patients": draw(st.integers(1, 300)),
        "index_group": draw(st.sampled_from(["none", "one", "two", "many"])),
        "max_infusions": draw(st.integers(1, 5)),
        "missing": draw(st.sampled_from([0.0, 0.0, 0.05, 0.3, 1.0])),
        "index_effect": draw(st.sampled_from([6.0, 3.0, 1.0, 0.0, -1.0])),
        "comparison_effect": draw(st.sampled_from([5.0, 3.0, 0.5, 0.0])),
        "spread": draw(st.sampled_from([0.0, 0.5, 2.0, 4.0])),
        "optional_columns": draw(st.sets(st.sampled_from(
            ["sex", "age_years", "previous_interventions", "relief", "midazolam", "ondansetron", "side_effects"]))),
        "all_premedicated": draw(st.booleans()),
        "side_effect_rate": draw(st.sampled_from([0.0, 0.1, 0.5])),
        "relief_recorded": draw(st.sampled_from([0.0, 0.3, 1.0])),
        "ongoing_rate": draw(st.sampled_from([0.0, 0.2, 0.6])),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


def _vas(values: np.ndarray) -> np.ndarray:
    """VAS on the 0.1-cm grid, within 0 to 10."""
    return np.clip(np.round(values, 1), 0, 10)


def write_dataset(folder: Path, shape: dict) -> None:
    rng = np.random.default_rng(shape["seed"])
    n = shape["n_patients"]
    n_index = {"none": 0, "one": 1, "two": min(2, n), "many": int(rng.integers(0, n + 1))}[shape["index_group"]]
    is_index = np.zeros(n, dtype=bool)
    is_index[rng.choice(n, size=n_index, replace=False)] = True
    optional = shape["optional_columns"]
    patient_columns = ["patient_id", "diagnosis"]
    patient_columns += [c for c in ("sex", "age_years", "previous_interventions") if c in optional]
    if "relief" in optional:
        patient_columns += ["relief_duration_days", "relief_ongoing"]
    patient_rows = []
    for i in range(n):
        row = {
            "patient_id": f"P{i + 1}",
            "diagnosis": rng.choice(INDEX_SPELLINGS) if is_index[i] else rng.choice(OTHER_DIAGNOSES),
            "sex": rng.choice(["F", "M", ""]),
            "age_years": str(int(rng.integers(18, 90))),
            "previous_interventions": "; ".join(rng.choice(INTERVENTIONS, size=int(rng.integers(0, 3)), replace=False)),
            "relief_duration_days": str(int(rng.integers(0, 60))) if rng.random() < shape["relief_recorded"] else "",
            "relief_ongoing": "true" if rng.random() < shape["ongoing_rate"] else "false",
        }
        patient_rows.append([row[c] for c in patient_columns])
    infusion_columns = ["infusion_id", "patient_id", "infusion_date", "ketamine_dose_mg", "infusion_duration_min",
                        "vas_pre", "vas_post"]
    infusion_columns += [c for c in ("midazolam", "ondansetron", "side_effects") if c in optional]
    infusion_rows = []
    for i in range(n):
        effect = shape["index_effect"] if is_index[i] else shape["comparison_effect"]
        patient_effect = effect + rng.normal(0, shape["spread"]) if shape["spread"] else effect
        for _ in range(int(rng.integers(1, shape["max_infusions"] + 1))):
            pre = _vas(rng.uniform(min(max(patient_effect, 0), 10), 10)) if shape["spread"] else 8.0
            post = _vas(np.array(pre - patient_effect))
            row = {
                "infusion_id": f"I{len(infusion_rows) + 1}",
                "patient_id": f"P{i + 1}",
                "infusion_date": f"{2015 + int(rng.integers(0, 5))}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}",
                "ketamine_dose_mg": str(int(rng.integers(20, 200))),
                "infusion_duration_min": str(int(rng.integers(30, 240))),
                "vas_pre": f"{float(pre):.1f}",
                "vas_post": f"{float(post):.1f}",
                "midazolam": "true" if shape["all_premedicated"] or rng.random() < 0.8 else "false",
                "ondansetron": "true" if shape["all_premedicated"] or rng.random() < 0.8 else "",
                "side_effects": rng.choice(SIDE_EFFECTS) if rng.random() < shape["side_effect_rate"] else "none",
            }
            for column in ("ketamine_dose_mg", "infusion_duration_min", "vas_pre", "vas_post"):
                if rng.random() < shape["missing"]:
                    row[column] = ""
            infusion_rows.append([row[c] for c in infusion_columns])
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(folder / "patients.csv", patient_columns, patient_rows)
    _write_csv(folder / "infusions.csv", infusion_columns, infusion_rows)


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


# ------------------------------------------------------------ the predicates --

def sentences_of(paragraphs: list[str]) -> list[str]:
    text = " ".join(paragraphs).replace("\u00a0", " ").replace("\u2060", "")
    return [s for s in re.split(r"(?<=[.)])\s+(?=[A-Z(])", text) if s]


def allowed_numbers(results: dict) -> set[str]:
    """Every number the prose may print: the values of results.json and of the configuration, formatted by the engine."""
    allowed: set[str] = {"0.001", "0.999"}  # the P format's bounds: "P < 0.001"

    def add_count(value):
        if value is not None:
            allowed.add(format_count(int(value)))

    cohort = results["cohort"]
    for key, value in cohort.items():
        if isinstance(value, int) and not isinstance(value, bool):
            add_count(value)
    for value in cohort["diagnoses"].values():
        add_count(value)
    # The abstract names the comparison group's most frequent specific diagnoses (two, or more when tied) and
    # counts the rest: the rest after any number of them named.
    index = results["config"]["analysis"]["index_diagnosis"]
    specific = [n for label, n in cohort["diagnoses"].items() if label not in (index, "other")]
    for named in range(len(specific) + 1):
        add_count(cohort["n_comparison"] - sum(specific[:named]))
    # The exclusions by item, when they add up to more than the infusions excluded, give their sum.
    add_count(sum(cohort["excluded_missing_by_column"].values()))
    for value in [cohort["index_percent"], cohort["comparison_percent"], *cohort["diagnoses_percent"].values()]:
        if value is not None:
            allowed.add(format_percent(value).rstrip("%").lstrip("<>"))
    for estimate in results["estimates"]:
        for key in ("estimate", "conf_low", "conf_high"):
            if estimate[key] is not None:
                allowed.add(format_mean(estimate[key]))
                allowed.add(format_proportion(estimate[key]).rstrip("%").lstrip("<>"))
                allowed.add(format_count(round(100 * estimate[key])))
        if estimate["std_error"] is not None:
            allowed.add(format_se(estimate["std_error"]))
        if estimate["p_value"] is not None:
            allowed.add(format_p(estimate["p_value"]).lstrip("<> "))
        add_count(estimate["n"])
        add_count(estimate["x"])
    relief = results["relief"]
    for key in ("n_recorded", "n_censored", "n_not_recorded"):
        add_count(relief[key])
    add_count(results["vas"]["n_patients_improved"])
    for outcome in relief["outcomes"]:
        allowed.update({f"{outcome['days']:g}", *re.findall(r"\d+", outcome["label"])})
        add_count(outcome["n_evaluable"])
        add_count(outcome["n_censored_not_evaluable"])
        add_count(outcome["x"])
    if results["config"]["report"].get("suppress_below"):
        allowed.add(str(results["config"]["report"]["suppress_below"]))  # "<N", "fewer than N"
    allowed.add(f"{100 * results['config']['analysis']['conf_level']:g}")
    allowed.add(f"{100 * results['relief']['conf_level']:g}")
    for row in results["characteristics"]["infusions"]["rows"]:
        if row["section"] == "Side effects" and row["label"] == "Any" and row["cells"]["all"]["percent"] is not None:
            allowed.add(format_percent(row["cells"]["all"]["percent"]).lstrip("<>").rstrip("%"))
    for date in (cohort["first_infusion_date"], cohort["last_infusion_date"]):
        if date:
            allowed.add(date[:4])
    return {number.replace("−", "") for number in allowed}


def numbers_in(sentence: str) -> list[str]:
    sentence = re.sub(r"\b(Table|Figure)s? \d+", "", sentence)
    return [n.replace("−", "") for n in re.findall(r"−?\d[\d,]*(?:\.\d+)?", sentence)]


def check_truth(results: dict, context) -> None:
    alpha = 1 - results["config"]["analysis"]["conf_level"]
    vas = {e["term"]: e for e in results["estimates"] if e["analysis"] == "vas_reduction"}
    overall, difference = vas["overall"], vas["difference"]
    cohort = results["cohort"]

    def significant(estimate) -> bool:
        return estimate["p_value"] is not None and estimate["p_value"] < alpha

    prose = [p for s in context.abstract for p in s.paragraphs] + [p for s in context.results for p in s.paragraphs]
    prose += context.conclusions
    allowed = allowed_numbers(results)
    for sentence in sentences_of(prose):
        for number in numbers_in(sentence):
            assert number in allowed, f"{number!r} is not a value of results.json: {sentence}"
        if "reported a significant reduction in VAS score" in sentence:
            assert significant(overall) and overall["estimate"] > 0, sentence
            assert results["vas"]["n_patients_improved"] == overall["n"], sentence
            if sentence.startswith("All patients"):
                assert cohort["n_patients_not_analyzed"] == 0, sentence
        if "between groups was statistically significant" in sentence:
            assert significant(difference), sentence
        if "The difference between groups was" in sentence and "not statistically significant" in sentence:
            assert difference["p_value"] is not None and not significant(difference), sentence
        if "The reduction was larger" in sentence:
            assert significant(difference) and difference["estimate"] > 0, sentence
        if "The reduction was smaller" in sentence:
            assert significant(difference) and difference["estimate"] < 0, sentence
        if "were followed by a reduction in VAS pain scores" in sentence:
            assert significant(overall) and overall["estimate"] > 0, sentence
        if "All patients were pretreated with midazolam and ondansetron" in sentence:
            assert cohort["n_infusions_midazolam"] == cohort["n_infusions_ondansetron"] == cohort["n_infusions"], sentence
        if "had a lower mean VAS after infusion" in sentence:
            stated = re.search(r"(\d[\d,]*) of (\d[\d,]*) patients had a lower mean VAS", sentence)
            if stated:
                k, n = stated.groups()
                assert (k, n) == (format_count(results["vas"]["n_patients_improved"]), format_count(overall["n"])), sentence
            else:  # small-cell protection: a count or the total hidden, said so
                hidden = re.search(r"([\d,]+|<\d+|an undisclosed number) of (the [\d,]+ patients|them) had", sentence)
                assert hidden, sentence
                if hidden.group(1)[0].isdigit():
                    assert hidden.group(1) == format_count(results["vas"]["n_patients_improved"]), sentence
        if "could not be tested" in sentence and "difference between groups" in sentence:
            assert difference["p_value"] is None, sentence
        most = re.search(r"(?:the most frequent (?:was|were)|most often) (.+?)(?: \(Table 2\))?\.$", sentence)
        if most:
            effects = {row["label"].lower(): row["cells"]["all"]["n"] for row in results["characteristics"]["infusions"]["rows"]
                       if row["section"] == "Side effects" and row["label"] != "Any"}
            named = re.split(r", | and ", most.group(1))
            assert {effects[name] for name in named} == {max(effects.values())}, sentence
            assert sum(n == max(effects.values()) for n in effects.values()) == len(named), sentence
        if "no evidence" in sentence:
            raise AssertionError(f"'no evidence' phrasing: {sentence}")
    # Under small-cell protection a difference with a group of fewer than N patients is withheld ("n < N").
    withheld = context.values["vas"]["difference"]["estimate"].startswith("n\u00a0<")
    if difference["estimate"] is not None and difference["p_value"] is not None and not withheld:
        assert any(f"{results['config']['analysis']['conf_level'] * 100:g}% CI" in s for s in sentences_of(prose)
                   if "between groups" in s), "the difference is given without its confidence interval"


LEAKS = [
    (re.compile(r"\bNone\b"), "None"), (re.compile(r"\bnan\b", re.I), "nan"),
    (re.compile(r"(?:^|[\s(])–(?:[\s),.;]|$)"), "a lone en dash for a missing value"),
    (re.compile(r"\b0 infusions\b"), "0 infusions"), (re.compile(r"\S  +\S"), "a doubled space"),
    (re.compile(r"(?<![\d.,])1 (?:patients|infusions)\b"), "a plural after 1"),
    (re.compile(r"\bone (?:patients|infusions)\b"), "a plural after one"),
]


def check_no_leaks(context) -> None:
    texts = [context.title.title, *context.introduction, *context.conclusions]
    for section in [*context.abstract, *context.methods, *context.results]:
        texts += section.paragraphs
    for table in context.tables.values():
        texts.append(table.caption)
        texts += table.notes
    for figure in context.figures.values():
        texts += [figure.caption, figure.alt]
    for text in texts:
        plain = text.replace("\u00a0", " ").replace("\u2060", "")
        for pattern, what in LEAKS:
            assert not pattern.search(plain), f"{what} in: {plain}"


def any_analysable(folder: Path) -> bool:
    """Does some infusion have every analysis value (read from the CSV, not from the engine)?"""
    import csv

    with (folder / "infusions.csv").open(encoding="utf-8") as handle:
        return any(all(row[c] for c in ("ketamine_dose_mg", "infusion_duration_min", "vas_pre", "vas_post"))
                   for row in csv.DictReader(handle))


@given(shape=study_shapes())
def test_every_generated_sentence_is_true(shape, tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    write_dataset(folder, shape)
    # In process, as the command runs it (the command's exit statuses are tested in test_true_report.py):
    # the only documented refusal of a valid dataset is "nothing to analyse", exit status 2.
    try:
        run = run_analysis(folder)
    except NothingToAnalyse as refusal:
        assert refusal.exit_code == 2 and not any_analysable(folder), refusal
        return
    results = json.loads(results_json(run.document()))  # exactly what results.json holds
    context = build_context(run)
    check_truth(results, context)
    check_no_leaks(context)


NOT_COUNTS = re.compile(
    r"\b(?:Tables?|Figures?) \d+|<\d+|[Ff]ewer than \d+|−?\d[\d,]*\.\d+|\d+(?:–\d+)?%|\d+[ -](?:days?|weeks?|months?|cm)\b"
    r"|\b(?:19|20)\d\d\b|α = \S+|n < \d+|a count from 1 to \d+|\(Bernoulli model[^()]*(?:\([^()]*\)[^()]*)*\)|Beta\([^)]*\)"
    r"|\b(?:Jeffreys|Clopper|Wilson)[^()]*(?:\([^()]*\)[^()]*)*")
"""What the prose prints that is not a count of patients or infusions: table and figure numbers, the threshold
itself, decimals, percentages, thresholds in days, centimetres, years, α, the relief method's description."""
SMALL_WORDS = re.compile(r"\b(one|two|three|four|five|six|seven|eight|nine)\b(?!-)(?! of (?:the|them)\b)(?!(?: [\w-]+)? aetiolog)",
                         re.IGNORECASE)


def stated_small_counts(text: str, threshold: int) -> list[str]:
    """Counts from 1 to N−1 that a text states, in digits or in words ("at least one" is not a count)."""
    plain = NOT_COUNTS.sub(" ", text.replace("\u00a0", " ").replace("\u2060", ""))
    found = [n for n in re.findall(r"(?<![\w.])\d[\d,]*(?![\w.])", plain) if 1 <= int(n.replace(",", "")) < threshold]
    words = [w for w in SMALL_WORDS.findall(re.sub(r"(?i)at least one|a single patient|one of them", " ", plain))
             if ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"].index(w.lower()) + 1 < threshold]
    return found + words


def published_prose(context) -> list[str]:
    """Every sentence a published report generates from the data: abstract, methods (not the fixed prose of the
    statistical methods: "two-sample", "Beta(1, 1)"), results, conclusions, the Quarto variables' sentences, the figures' captions and descriptions, the tables' captions and notes."""
    methods = [s for s in context.methods if s.heading not in ("Statistical analysis", "Outcomes")]  # fixed prose
    texts = [p for s in (*context.abstract, *methods, *context.results) for p in s.paragraphs]
    texts += [*context.conclusions, *context.values["narrative"].values(), context.values["phrases"]["excluded_by_item"]]
    texts += [text for figure in context.figures.values() for text in (figure.caption, figure.alt)]
    texts += [text for table in context.tables.values() for text in (table.caption, *table.notes)]
    return texts


@given(shape=study_shapes(), threshold=st.sampled_from([3, 5, 11]))
def test_no_sentence_states_a_count_below_n_when_suppressing(shape, threshold, tmp_path_factory):
    """Small-cell protection by construction: whatever the data, no generated sentence prints a count from 1 to
    N−1 (digits or words), and every sentence is still true and leak-free."""
    folder = tmp_path_factory.mktemp("study")
    write_dataset(folder, shape)
    try:
        run = with_threshold(run_analysis(folder), threshold)
    except NothingToAnalyse:
        return
    facts = gather_facts(run)
    context = suppress_context(run, build_context(run, vas_display="distribution", facts=facts), facts.decisions)
    for text in published_prose(context):
        assert not stated_small_counts(text, threshold), (threshold, stated_small_counts(text, threshold), text)
    results = json.loads(results_json(run.document()))
    check_truth(results, context)
    check_no_leaks(context)


def test_the_small_count_check_finds_counts_in_digits_and_words():
    """The predicate above can fail: it finds a small count however the prose states it, and only counts."""
    assert stated_small_counts("We excluded 3 infusions; two patients had no analysed infusion.", 5) == ["3", "two"]
    assert stated_small_counts("Of the remaining 31 (63%) patients, eight had headache.", 11) == ["eight"]
    assert stated_small_counts("ketamine dose (2), VAS (17)", 5) == ["2"]
    assert stated_small_counts(
        "Side effects were recorded after <5 analysed infusions (Table 2), at least one, relief ≥ 7 days: 59–85%, "
        "5.9 cm (95% CI 4.5 to 6.9, P = 0.002), of one aetiology, January 2004, fewer than 5 patients.", 11) == []
