"""Small-cell protection: every hidden cell is tried to be recomputed from what the report prints.

The attack here is written independently of ketareport.present.suppress: it
reads only the printed strings of Tables 1 and 2, writes down the equations a
reader knows (a row's groups add up to its total; the diagnoses and the sexes
of a group add up to the group's size; the two groups add up to everyone)
and, for every hidden cell, finds the smallest and largest integer value it
can take given those equations and the printed cells (an integer program).
A cell whose smallest and largest values coincide has been recovered.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from ..conftest import DEMO

PARTITIONS = ("Diagnosis", "Sex")
"""Characteristics whose categories a reader knows add up to the group size."""


def build_report(dataset, threshold):
    from ketareport import report
    from ketareport.pipeline import run_analysis
    from ketareport.present.suppress import with_threshold

    run = with_threshold(run_analysis(dataset), threshold)
    return run, report.build(run, pdf=False)


@pytest.fixture(scope="module")
def suppressed_reports(small_dataset):
    """``reports[dataset_name, threshold]``: each (run, report) built once for the tests that only read them."""
    built = {}

    def reports(dataset_name: str, threshold: int):
        if (dataset_name, threshold) not in built:
            built[dataset_name, threshold] = build_report(DEMO if dataset_name == "demo" else small_dataset, threshold)
        return built[dataset_name, threshold]
    return reports


def parse_cell(text: str, threshold: int):
    """(known value, or None) and (lower, upper) bounds of a printed count cell."""
    if text == f"<{threshold}":
        return None, (1, threshold - 1)
    if text == "‡":
        return None, (0, 10**6)
    match = re.fullmatch(r"([\d,]+)( \((<1|>99|\d+)%\))?", text)
    assert match, f"unexpected printed count {text!r}"
    value = int(match.group(1).replace(",", ""))
    return value, (value, value)


def recoverable_cells(table, threshold: int) -> list[str]:
    """The hidden cells of a printed characteristics table that its printed numbers determine."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    headers = table.columns[1:]
    sizes = [re.fullmatch(r"(.*)\s\(n\s=\s(.*)\)", header).group(2) for header in headers]
    cells: dict[tuple, tuple] = {}
    for column, size in enumerate(sizes):
        cells[("n", column)] = parse_cell(size, threshold)
    equations = [{("n", 0): 1, ("n", 1): 1, ("n", 2): -1}]
    section, members = None, {}
    for position, row in enumerate(table.rows):
        if row.kind == "section":
            section = row.label
            continue
        if not re.fullmatch(r"([\d,]+( \(.*%\))?|<\d+|‡)", row.cells[0]):
            continue  # a mean, median or hidden summary: not a count
        for column, text in enumerate(row.cells):
            cells[(position, column)] = parse_cell(text, threshold)
            if sizes[column] in (f"<{threshold}", "‡"):
                assert "%" not in text, f"a percentage beside a hidden group size gives the size away: {text}"
        equations.append({(position, 0): 1, (position, 1): 1, (position, 2): -1})
        if section in PARTITIONS:
            members.setdefault(section, []).append(position)
    for positions in members.values():
        for column in range(3):
            equations.append({**{(p, column): 1 for p in positions}, ("n", column): -1})
    names = list(cells)
    index = {name: i for i, name in enumerate(names)}
    matrix = np.zeros((len(equations), len(names)))
    for row, equation in enumerate(equations):
        for name, coefficient in equation.items():
            matrix[row, index[name]] = coefficient
    lower = np.array([cells[name][1][0] for name in names], dtype=float)
    upper = np.array([cells[name][1][1] for name in names], dtype=float)
    constraint = LinearConstraint(matrix, 0, 0)
    recovered = []
    for name in names:
        if cells[name][0] is not None:
            continue
        objective = np.zeros(len(names))
        objective[index[name]] = 1
        low, high = (milp(sign * objective, constraints=constraint, integrality=np.ones(len(names)),
                          bounds=Bounds(lower, upper)) for sign in (1, -1))
        assert low.success and high.success, name
        if round(low.fun) == round(-high.fun):
            recovered.append(f"{table.id} {name}: {round(low.fun)}")
    return recovered


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory):
    """A generated dataset of 40 patients: small groups and many small cells."""
    from ketareport import demo

    folder = tmp_path_factory.mktemp("small") / "data"
    demo.write_demo(folder, patients=40, seed=11)
    return folder


@pytest.mark.parametrize("dataset_name, threshold", [("demo", 5), ("demo", 11), ("small", 5), ("small", 11)])
def test_no_hidden_cell_can_be_recomputed_from_the_tables(dataset_name, threshold, suppressed_reports):
    run, built = suppressed_reports(dataset_name, threshold)
    hidden = 0
    for key in ("patients", "infusions"):
        table = built.context.tables[key]
        hidden += sum(cell in (f"<{threshold}", "‡") for row in table.rows for cell in row.cells)
        assert recoverable_cells(table, threshold) == []
    assert hidden > 0  # the datasets have small cells: the attack had something to try


@pytest.mark.parametrize("threshold", [5, 11])
def test_the_text_states_no_hidden_count(threshold, suppressed_reports):
    """Every count the prose states beside a diagnosis, and every relief probability, agrees with the tables."""
    from ketareport.present.formats import count_words, format_proportion

    for dataset_name in ("demo", "small"):
        run, built = suppressed_reports(dataset_name, threshold)
        context = built.context
        prose = " ".join([*context.values["narrative"].values(), *context.values["text"].values(),
                          *(f.alt for f in context.figures.values())])
        table = context.tables["patients"]
        printed = {row.label.lower(): row.cells[2] for row in table.rows if row.cells}
        stated = 0
        for label, count in run.results.cohort.diagnoses.items():
            shown = run.results.cohort.diagnosis_labels[label]
            said = re.search(rf"\b({count_words(count)}|{count}) had {re.escape(shown)}\b", prose, flags=re.IGNORECASE)
            if 1 <= count < threshold:
                assert not said, (label, count)
                assert printed.get(shown.lower()) in (f"<{threshold}", "‡", None)
            stated += bool(re.search(rf"\b\S+ had {re.escape(shown)}\b", prose, flags=re.IGNORECASE))
        assert stated  # the cohort sentence names diagnoses of the comparison group: there was something to check
        for outcome in run.results.relief.outcomes:
            if 1 <= outcome.x < threshold or 1 <= outcome.n_censored_not_evaluable < threshold:
                assert f"{outcome.x} of {outcome.n_evaluable}" not in prose
                # "n < N" says a summary of fewer than N values: only when fewer than N were evaluable.
                few = 1 <= outcome.n_evaluable < threshold
                assert context.values["relief"][outcome.name]["estimate"] == (f"n\u00a0<\u00a0{threshold}" if few else "‡")
                assert f"{format_proportion(outcome.estimate)} (" not in prose
        for column, count in run.results.cohort.excluded_missing_by_column.items():
            if 1 <= count < threshold:
                assert f"({count})" not in " ".join(p for s in context.methods for p in s.paragraphs)
        vas = run.results.vas
        for estimate in (vas.index, vas.comparison):
            if 1 <= estimate.n < threshold:
                assert context.values["vas"]["difference"]["estimate"] == f"n\u00a0<\u00a0{threshold}"


@pytest.mark.slow
def test_render_with_suppression_keeps_the_analyst_files_exact(tmp_path):
    """render --suppress-below: the HTML, the PDF and the Quarto variables are suppressed; results.json is not."""
    from pypdf import PdfReader

    out = tmp_path / "out"
    completed = subprocess.run([sys.executable, "-m", "ketareport", "render", str(DEMO), "--out", str(out),
                                "--suppress-below", "11", "--quarto"], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["cohort"]["diagnoses"]["back_pain"] == 7  # exact for the analyst
    assert results["config"]["report"]["suppress_below"] == 11
    html = (out / "ketamine-report.html").read_text()
    assert "&lt;11 had back pain" in html and "seven had back pain" not in html
    pdf = PdfReader(out / "ketamine-report.pdf")
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "<11 had back pain" in re.sub(r"\s+", " ", text)
    attached = set(pdf.attachments)
    assert "results.json" not in attached and "estimates.csv" not in attached
    variables = (out / "quarto" / "_variables.yml").read_text()
    assert r'"n_censored": "\\<11"' in variables  # Markdown-escaped by the Quarto writer
    assert "had back pain" in variables and "seven had back pain" not in variables
    assert "2.5\u00a0cm band" in html or "2.5 cm band" in html  # Figure 2 drawn as distributions: no patient's own mean


def test_the_attack_recovers_cells_when_only_primary_cells_are_hidden(monkeypatch):
    """The attack is real: without rule 3 (complementary cells) it recomputes hidden counts of the demo."""
    from ketareport.present import small_cells

    monkeypatch.setattr(small_cells, "complementary", lambda values, hidden, equations, protected=frozenset(), unprinted=frozenset(), last=frozenset(): set(hidden))
    run, built = build_report(DEMO, 11)
    assert recoverable_cells(built.context.tables["patients"], 11) != []


# A clinic's small study, as a new-user trial wrote it: six patients with the index diagnosis and one with another,
# one index patient whose VAS after infusion is missing throughout, relief still ongoing for some patients.
EDGE_PATIENTS = """patient_id,diagnosis,sex,age_years,previous_interventions,relief_duration_days,relief_ongoing
A1,crps,F,40,opioids,3,yes
A2,crps,F,45,opioids;Nerve Blocks,10,no
A3,crps,M,,nerve blocks,30,yes
A4,crps,F,52,,5,yes
A5,crps,,61,,,
A6,crps,M,38,OPIOIDS,,
B1,post-herpetic neuralgia,F,70,,14,no
"""
EDGE_INFUSIONS = """infusion_id,patient_id,infusion_date,ketamine_dose_mg,infusion_duration_min,vas_pre,vas_post,midazolam,ondansetron,side_effects
1,A1,2022-01-10,100,60,8,3,true,true,
2,A1,2022-02-10,100,60,7,3,true,true,nausea
3,A2,2022-01-11,100,60,9,2,true,true,
4,A2,2022-02-11,100,60,8,2,true,true,
5,A3,2022-01-12,100,60,6,4,true,true,hallucinations
6,A3,2022-02-12,100,60,6,5,true,true,
7,A4,2022-01-13,100,60,7,6,true,true,
8,A5,2022-01-14,100,60,8,,true,true,
9,A5,2022-02-14,100,60,8,,true,true,
10,A6,2022-01-15,120,90,9,1,true,true,
11,A6,2022-02-15,120,90,9,1.5,true,true,
12,B1,2022-01-16,100,60,5,5.5,true,true,dizziness
13,B1,2022-02-16,100,60,5,6,true,true,
"""
EDGE_THRESHOLD = 3


@pytest.fixture(scope="module")
def edge_report(tmp_path_factory):
    """(run, report) of the trial's small study at ``suppress_below: 3``."""
    folder = tmp_path_factory.mktemp("edge")
    (folder / "patients.csv").write_text(EDGE_PATIENTS)
    (folder / "infusions.csv").write_text(EDGE_INFUSIONS)
    (folder / "study.yml").write_text("study:\n  title: Edge cases\n  period: {start: 2022-01-01, end: 2022-03-31}\n")
    return build_report(folder, EDGE_THRESHOLD)


def _svg_lines(svg: str) -> list[str]:
    import html

    return [html.unescape(text) for text in re.findall(r"<text[^>]*>(.*?)</text>", svg)]


def _prose(context) -> str:
    sections = [p for s in (*context.abstract, *context.methods, *context.results) for p in s.paragraphs]
    return " ".join([*sections, *context.conclusions, *context.values["narrative"].values(),
                     *(f.alt for f in context.figures.values()), *(f.caption for f in context.figures.values()),
                     *(t.caption for t in context.tables.values()), *(n for t in context.tables.values() for n in t.notes)])


def test_the_trial_study_has_the_small_cells_the_tests_below_need(edge_report):
    run, _ = edge_report
    cohort, vas = run.results.cohort, run.results.vas
    assert 1 <= cohort.n_patients_not_analyzed < EDGE_THRESHOLD
    assert 1 <= vas.comparison.n < EDGE_THRESHOLD and vas.index.n >= EDGE_THRESHOLD
    assert any(o.n_evaluable >= EDGE_THRESHOLD and 1 <= o.n_censored_not_evaluable < EDGE_THRESHOLD
               for o in run.results.relief.outcomes)


def test_figure_1_prints_hidden_counts_and_no_total_gives_one_back(edge_report):
    """Rule 5 and rule 3 on the flow: identified = analysed + excluded, and the groups add up to the analysed."""
    from ketareport.present.formats import plural

    run, built = edge_report
    cohort = run.results.cohort
    lines = _svg_lines(built.figures["flow"])
    less = f"<{EDGE_THRESHOLD}"
    comparison_box = lines[lines.index(run.config.analysis.comparison_label) + 1]
    assert comparison_box.startswith(f"{less} patients, ")
    assert plural(cohort.n_comparison_analyzed, "patient") not in comparison_box
    analysed_box = lines[lines.index("Infusions analysed") + 1]
    # One patient is missing between identified and analysed: printing both totals would give that count back.
    assert plural(cohort.n_patients_analyzed, "patient") not in analysed_box
    assert plural(cohort.n_infusions_analyzed, "infusion") not in analysed_box
    prose = _prose(built.context)
    assert f"{cohort.n_patients_analyzed} analysed patients" not in prose
    assert f"of the {plural(cohort.n_infusions_analyzed, 'analysed infusion')}" not in prose.lower()
    assert not re.search(rf"\b{cohort.n_patients_analyzed} patients analysed", prose)
    assert not re.search(rf"\b{cohort.n_infusions_analyzed} infusions", prose)
    values = built.context.values
    assert values["cohort"]["n_patients_analyzed"] == values["vas"]["overall"]["n"] == "‡"
    assert values["vas"]["overall"]["df"] == "‡"  # the t test's degrees of freedom are the size minus one


def test_figure_2_and_its_description_show_no_mean_of_a_small_group(edge_report):
    from ketareport.present.formats import format_mean

    run, built = edge_report
    small = run.results.vas.comparison
    mean = format_mean(small.estimate)
    assert mean not in _svg_lines(built.figures["vas"])
    assert format_mean(run.results.vas.index.estimate) in _svg_lines(built.figures["vas"])
    figure = built.context.figures["vas"]
    assert mean not in figure.alt and f"fewer than {EDGE_THRESHOLD} patients" in figure.alt
    assert f"(n = <{EDGE_THRESHOLD})" in _svg_lines(built.figures["vas"])
    # The figure's <title> (the HTML's description and the PDF's /Alt) is the same text.
    assert mean not in built.html


def test_figure_2_draws_no_band_of_fewer_than_n_patients(edge_report):
    """A band holding one patient shows that patient's mean to within the band's width (rule 5)."""
    from ketareport.present.context import SUPPRESSED_VAS_BAND_CM

    run, built = edge_report
    patients = run.cohort.analyzed_patients
    bands = np.floor(patients.loc[patients["is_index"], "reduction"].to_numpy() / SUPPRESSED_VAS_BAND_CM)
    assert np.unique(bands, return_counts=True)[1].max() < EDGE_THRESHOLD  # every band of the study is small
    assert "<rect" not in built.figures["vas"]


def test_figure_descriptions_state_hidden_counts_as_the_figure_prints_them(edge_report):
    from ketareport.present.formats import plural

    run, built = edge_report
    cohort = run.results.cohort
    alt = built.context.figures["flow"].alt
    for name, noun in (("n_infusions_excluded", "infusion"), ("n_patients_not_analyzed", "patient"),
                       ("n_patients_analyzed", "patient"), ("n_infusions_analyzed", "infusion")):
        assert not re.search(rf"(?<![\d<]){re.escape(plural(getattr(cohort, name), noun))}\b", alt), name
    assert f"<{EDGE_THRESHOLD} infusions excluded" in alt


def test_table_4_says_n_below_n_only_for_fewer_than_n_evaluable(edge_report):
    run, built = edge_report
    table = built.context.tables["relief"]
    few = f"n\u00a0<\u00a0{EDGE_THRESHOLD}"
    for row, outcome in zip(table.rows, run.results.relief.outcomes):
        assert (row.cells[2] == few) == (outcome.n_evaluable < EDGE_THRESHOLD), (outcome.name, row.cells)
        if outcome.n_evaluable >= EDGE_THRESHOLD and 1 <= outcome.n_censored_not_evaluable < EDGE_THRESHOLD:
            assert row.cells[2] == "‡"


def test_wording_after_a_hidden_count(edge_report):
    _, built = edge_report
    prose = _prose(built.context)
    less = f"<{EDGE_THRESHOLD}"
    assert not re.search(rf"{less} (\w+ )?(patient|infusion)\b(?!s)", prose)
    assert not re.search(rf"(^|[.!?]\s)({less}|an undisclosed|‡)", prose)
    assert not re.search(r"undisclosed number of \d", prose)
    assert f"Fewer than {EDGE_THRESHOLD} patients" in prose


def test_the_comparison_patients_with_other_diagnoses_hide_when_few(tmp_path):
    """The cohort sentence lists two diagnoses and "k had other diagnoses": k is a count like any other."""
    from ketareport.present.build import gather_facts
    from ketareport.present.formats import count_words

    folder = tmp_path / "data"
    folder.mkdir()
    diagnoses = ["crps"] * 6 + ["headache"] * 4 + ["migraine"] * 2 + ["back pain"]  # no tie at the second name
    (folder / "patients.csv").write_text("patient_id,diagnosis\n" + "".join(
        f"P{number},{diagnosis}\n" for number, diagnosis in enumerate(diagnoses)))
    (folder / "infusions.csv").write_text(
        "infusion_id,patient_id,infusion_date,ketamine_dose_mg,infusion_duration_min,vas_pre,vas_post\n" + "".join(
            f"{number},P{number},2022-01-{number + 1:02d},100,60,{5 + number % 4},{2 + number % 3}\n"
            for number in range(len(diagnoses))))
    (folder / "study.yml").write_text("study:\n  title: Other diagnoses\n")
    run, built = build_report(folder, EDGE_THRESHOLD)
    listed = gather_facts(run).comparison_diagnoses
    rest = run.results.cohort.n_comparison - sum(count for _, count in listed)
    assert 1 <= rest < EDGE_THRESHOLD  # the data make the lumped count small
    sentence = built.context.values["narrative"]["cohort"]
    assert f"{count_words(rest)} had another diagnosis" not in sentence
    assert f"<{EDGE_THRESHOLD} had other diagnoses" in sentence
    assert "remaining an undisclosed" not in sentence and "remaining patient," not in sentence


def test_a_t_test_of_a_hidden_size_prints_no_se_or_p(edge_report):
    """A mean's SE with its t interval (or its P) gives the degrees of freedom, hence the group's size."""
    from ketareport.present.formats import format_p_statement, format_se

    run, built = edge_report
    table = built.context.tables["vas"]
    overall = run.results.vas.overall
    assert table.rows[0].cells[0] == "‡"  # the analysed total is hidden (rule 3)
    checked = 0
    for row in table.rows:
        if row.cells[0] == "‡" and not row.cells[1].startswith("n"):
            assert (row.cells[2], row.cells[4]) == ("‡", "‡"), row
            checked += 1
    assert checked
    prose = _prose(built.context)
    assert f"SE {format_se(overall.std_error)}" not in prose and f"SE] {format_se(overall.std_error)}" not in prose
    assert format_p_statement(overall.p_value) not in prose
    assert built.context.values["vas"]["overall"]["p"] == "‡"


@pytest.mark.parametrize("threshold", [5, 11])
def test_figure_2_caption_says_which_distributions_are_not_drawn(threshold, suppressed_reports):
    """A caption describing bands the figure does not draw reads falsely: it says when a group has no band of N,
    and how many patients of a drawn group the bands leave out (as "fewer than N" when that is 1 to N−1)."""
    from ketareport.present.context import SUPPRESSED_VAS_BAND_CM

    run, built = suppressed_reports("demo", threshold)
    patients = run.cohort.analyzed_patients
    caption = re.sub(r"\s+", " ", built.context.figures["vas"].caption)
    assert f"the bands are {SUPPRESSED_VAS_BAND_CM:g} cm wide" in caption
    undrawn, left_out = [], []
    for label, is_index in ((run.config.analysis.index_label, True), (run.config.analysis.comparison_label, False)):
        reductions = patients.loc[patients["is_index"] == is_index, "reduction"].to_numpy()
        sizes = np.unique(np.floor(reductions / SUPPRESSED_VAS_BAND_CM + 1e-9), return_counts=True)[1]
        if sizes.max() < threshold:
            undrawn.append(label)
            continue
        missing = int(sizes[sizes < threshold].sum())
        said = "none" if not missing else f"fewer than {threshold}" if missing < threshold else str(missing)
        left_out.append(f"{said} of the {reductions.size} patients of the {label if is_index else label.lower()} group")
    if len(undrawn) == 2:
        assert "neither distribution is drawn" in caption and "<rect" not in built.figures["vas"]
    elif undrawn:
        assert f"No band of the {undrawn[0]} group holds {threshold} or more patients" in caption
    else:
        assert "No band" not in caption
    for said in left_out:
        assert said in caption
    assert undrawn or left_out  # the test had something to check


def printed_complements(table, threshold: int) -> list[str]:
    """Small counts a reader works out from one printed row of a table as size minus count: "12 of 18 had opioids"
    says 6 had not. A characteristic whose categories add up to the size (diagnosis, sex) is left out: its other
    categories are printed cells, attacked above."""
    sizes = [re.fullmatch(r"(.*)\s\(n\s=\s(.*)\)", header).group(2) for header in table.columns[1:]]
    section, found = None, []
    for row in table.rows:
        if row.kind == "section":
            section = row.label
            continue
        if section in PARTITIONS or not re.fullmatch(r"[\d,]+( \(.*%\))?", row.cells[0] or "x"):
            continue
        for text, size in zip(row.cells, sizes):
            count, _ = parse_cell(text, threshold) if re.fullmatch(r"([\d,]+( \(.*%\))?|<\d+|‡)", text) else (None, None)
            if count is not None and size.replace(",", "").isdigit() and 1 <= int(size.replace(",", "")) - count < threshold:
                found.append(f"{table.id} {row.label}: {text} of {size}")
    return found


@pytest.mark.parametrize("dataset_name, threshold", [("demo", 5), ("demo", 11), ("small", 5), ("small", 11)])
def test_no_printed_count_leaves_a_small_complement(dataset_name, threshold, suppressed_reports):
    """A count printed beside its group's size gives the rest of the group: that must not be small either (nor the
    evaluable patients without relief in Table 4)."""
    run, built = suppressed_reports(dataset_name, threshold)
    tables = built.context.tables
    assert printed_complements(tables["patients"], threshold) == []
    assert printed_complements(tables["infusions"], threshold) == []
    for row in tables["relief"].rows:
        x, n = (part.strip() for part in row.cells[1].split("/"))
        if x.isdigit() and n.isdigit():
            assert not 1 <= int(n) - int(x) < threshold, row


def test_the_complement_check_finds_a_small_complement():
    """The check above can fail: "12 (67%)" of 18 leaves 6, below 11."""
    from ketareport.present.context import Table, TableRow

    table = Table("tbl-x", 1, "", ["Characteristic", "A (n\u00a0=\u00a018)", "B (n\u00a0=\u00a031)", "All (n\u00a0=\u00a049)"],
                  [TableRow("Previous interventions", [], "section"),
                   TableRow("Opioids", ["12 (67%)", "30 (97%)", "42 (86%)"], "subrow")])
    assert printed_complements(table, 11) == ["tbl-x Opioids: 12 (67%) of 18", "tbl-x Opioids: 30 (97%) of 31",
                                              "tbl-x Opioids: 42 (86%) of 49"]


def test_a_study_without_sex_or_age_is_protected(tmp_path):
    """No sex or age column: "Not recorded" is every patient (beside zeros), its "all" cell the protected total. The
    trial's "minimal" study (12 patients, two with no infusion) once stopped the render ("cannot protect")."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "patients.csv").write_text("patient_id,diagnosis\n" + "".join(
        f"M{number},{('crps', 'headache', 'other')[number % 3]}\n" for number in range(12)))
    (folder / "infusions.csv").write_text(
        "infusion_id,patient_id,infusion_date,ketamine_dose_mg,infusion_duration_min,vas_pre,vas_post,midazolam\n"
        + "".join(f"{p}-{k},M{p},2021-0{k + 1}-10,100,60,{7 + (p + k) % 3},{4 + k % 2},true\n"
                  for p in range(10) for k in range(3)))
    for threshold in (3, 5, 11):
        run, built = build_report(folder, threshold)
        table = built.context.tables["patients"]
        assert printed_complements(table, threshold) == []
        if threshold != 5:
            # At N = 5 three diagnoses of 4 patients each print "<5" thrice beside 12: the bounds alone give 4 (the rule
            # audits linear equations, not the "<N" bounds: docs/suppression.md, Limits).
            assert recoverable_cells(table, threshold) == []
