"""The complementary-suppression audit on small systems whose answer is known by hand."""

from __future__ import annotations

from ketareport.present.small_cells import complementary, determined, hidden_count

# One row of a table: index + comparison = all.
ROW = [{"i": 1, "c": 1, "a": -1}]


def test_hidden_count_is_one_to_n_minus_one():
    assert [n for n in range(0, 7) if hidden_count(n, 5)] == [1, 2, 3, 4]
    assert not hidden_count(None, 5)


def test_one_hidden_cell_of_a_row_follows_from_the_other_two():
    assert determined({"i"}, ROW) == {"i"}
    assert determined({"i", "c"}, ROW) == set()


def test_complementary_hides_the_smallest_other_cell_of_the_row():
    values = {"i": 3, "c": 20, "a": 23}
    assert complementary(values, {"i"}, ROW) == {"i", "c"}
    # The total is protected: the comparison cell is chosen even when larger.
    assert complementary({"i": 3, "c": 40, "a": 43}, {"i"}, ROW, frozenset({"a"})) == {"i", "c"}


def test_a_two_by_two_table_with_margins_needs_four_hidden_cells():
    # Cells x11 x12 / x21 x22 with row totals r1 r2 and column totals k1 k2 printed.
    equations = [
        {"x11": 1, "x12": 1, "r1": -1}, {"x21": 1, "x22": 1, "r2": -1},
        {"x11": 1, "x21": 1, "k1": -1}, {"x12": 1, "x22": 1, "k2": -1},
    ]
    values = {"x11": 2, "x12": 30, "x21": 40, "x22": 50, "r1": 32, "r2": 90, "k1": 42, "k2": 80}
    protected = frozenset({"r1", "r2", "k1", "k2"})
    hidden = complementary(values, {"x11"}, equations, protected)
    assert hidden == {"x11", "x12", "x21", "x22"}
    assert determined(hidden, equations) == set()


def test_a_quantity_never_printed_links_equations_without_being_hidden():
    # Identified patients = analysed + not analysed; not analysed = its index part + its comparison part, which the
    # report never prints. The identified total is protected, so the analysed total must hide.
    equations = [{"identified": 1, "analysed": -1, "left": -1}, {"left": 1, "left_index": -1, "left_other": -1}]
    values = {"identified": 7, "analysed": 6, "left": 1, "left_index": 1, "left_other": 0}
    hidden = complementary(values, {"left", "left_index"}, equations, frozenset({"identified"}),
                           frozenset({"left_index", "left_other"}))
    assert hidden == {"left", "left_index", "analysed"}


def test_a_count_prints_as_decided_with_its_noun_in_the_plural_after_a_hidden_count():
    from ketareport.present.disclosure import Counts

    counts = Counts(3, {"n_patients_analyzed": "‡"})
    assert counts("n_comparison_analyzed", 1, "patient") == "<3 patients"
    assert counts("n_patients_analyzed", 6, "patient") == "‡ patients"
    assert counts("n_index_analyzed", 4, "patient") == "4 patients"
    assert counts("n_patients_analyzed", 6) == "‡"


def test_a_count_in_running_text_is_exact_or_hidden_with_a_plural_noun_and_a_capital_at_a_sentence_start():
    from ketareport.present.disclosure import EXACT, Counts

    counts = Counts(3, {"n_patients_analyzed": "‡"})
    assert counts.text("n_comparison_analyzed", 1, "patient") == "<3 patients"
    assert counts.text("n_comparison_analyzed", 1, "patient", start=True) == "Fewer than 3 patients"
    assert counts.text("n_patients_analyzed", 6, "patient") == "an undisclosed number of patients"
    assert counts.text("n_patients_analyzed", 6, start=True) == "An undisclosed number"
    assert counts.text("n_index", 4, "patient", words=True) == "four patients"
    assert EXACT.text("n_index", 1, words=True, start=True) == "One"
    assert counts("n_comparison_analyzed", 2, "patient") == "<3 patients" and counts("n_patients_analyzed", 6) == "‡"
    assert counts.percent("n_index", 2, 40.0) is None and counts.percent("n_index", 4, 40.0) == "40%"
    # No protection: every count exact, zero included.
    assert EXACT.text("n_index", 1, "patient") == "1 patient" and EXACT.text("n_index", 0, "patient", words=True) == "no patients"
    assert not EXACT.hides("n_index", 1) and EXACT.percent("n_index", 1, 2.0) == "2%"


def test_a_cell_equal_to_a_protected_total_is_never_chosen_to_hide():
    # Every infusion had the drug: the row's "all" cell is the protected total, so hiding it protects nothing; the
    # small group's cell is protected by hiding the other group's (cell and size) instead.
    equations = [{"n_i": 1, "n_c": 1, "n_a": -1}, {"d_i": 1, "d_c": 1, "d_a": -1},
                 {"d_i": 1, "n_i": -1}, {"d_c": 1, "n_c": -1}, {"d_a": 1, "n_a": -1}]
    values = {"n_i": 2, "n_c": 404, "n_a": 406, "d_i": 2, "d_c": 404, "d_a": 406}
    hidden = complementary(values, {"n_i", "d_i"}, equations, frozenset({"n_a"}), last=frozenset({"n_c"}))
    assert hidden == {"n_i", "d_i", "n_c", "d_c"}
    assert determined(hidden, equations) == set()

