"""The diff's parts: reading printed numbers, comparing value sets, the summary line and both outputs."""

from __future__ import annotations

import pytest

from ketareport.diff import ValueSet, compare, diff_html, diff_text, printed_number, summary_line


@pytest.mark.parametrize("text, number", [
    ("5.9", 5.9), ("\u22120.3", -0.3), ("1,234", 1234), ("18 (37%)", 18), ("1 (<1%)", 1), ("49", 49),
    ("<5", None), ("< 0.001", None), ("4.5 to 6.9", None), ("59\u2013\u206085%", None), ("\u2013", None), ("37%", None),
])
def test_printed_number_reads_only_values_that_state_one_number(text, number):
    assert printed_number(text) == number


def values(**pairs):
    return ValueSet("results.json", {name.replace("__", " / "): kind_value for name, kind_value in pairs.items()})


def test_compare_lists_changed_added_and_removed_values_estimates_first():
    old = values(cohort__n_patients=("count", 49), overall__estimate=("estimate", 5.5), same=("estimate", 1.0),
                 gone=("table cell", "3 (6%)"))
    new = values(cohort__n_patients=("count", 46), overall__estimate=("estimate", 5.75), same=("estimate", 1.0),
                 added=("table cell", "<5"))
    changes = compare(old, new)
    assert [(c.kind, c.quantity, c.old, c.new, c.difference) for c in changes] == [
        ("estimate", "overall / estimate", 5.5, 5.75, 0.25),
        ("count", "cohort / n_patients", 49, 46, -3),
        ("table cell", "gone", "3 (6%)", None, None),
        ("table cell", "added", None, "<5", None),
    ]
    assert summary_line(changes) == "1 estimate, 1 count, 2 table cells changed; patients 49 → 46."
    assert summary_line([]) == "No estimate, count or table cell changed."


def test_a_suppressed_value_has_no_difference():
    old = values(cell=("table cell", "<5"))
    new = values(cell=("table cell", "7 (14%)"))
    [change] = compare(old, new)
    assert change.difference is None


def test_text_and_html_outputs():
    changes = compare(values(n=("count", 10), m=("estimate", 0.5)), values(n=("count", 12), m=("estimate", 0.25)))
    text = diff_text(changes, "results.json")
    assert text.splitlines()[0].split() == ["Kind", "Quantity", "Old", "New", "Difference"]
    assert text.splitlines()[2].split() == ["estimate", "m", "0.5", "0.25", "-0.25"]
    assert text.splitlines()[3].split() == ["count", "n", "10", "12", "+2"]
    fragment = diff_html(changes, "Changes <since> v1")
    assert "Changes &lt;since&gt; v1" in fragment
    assert fragment.index('id="diff-caption"') < fragment.index('class="table-scroll"')  # caption outside the scroller
    assert '<th scope="row">n</th><td class="number">10</td><td class="number">12</td><td class="number">+2</td>' in fragment
    assert '<th scope="rowgroup" colspan="4">Estimates</th>' in fragment
