"""Snapshot tests of template partials: one piece of the output at a time, with fixed inputs (as great_tables does).

A change to a partial's markup shows here as a readable diff of that partial alone.
"""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from ketareport.present.context import Table, TableRow
from ketareport.render import template_environment


def render_macro(template: str, macro: str, *args) -> str:
    return getattr(template_environment().get_template(template).module, macro)(*args)


TABLE = Table(
    "tbl-example", 3, "Reduction <by> group.", ["Group", "Patients", "Mean"],
    [TableRow("Diagnosis", [], "section"), TableRow("CRPS", ["18", "7.2"], "subrow"), TableRow("All", ["49", "5.9"])],
    notes=["A note."],
)

TABLE_SNAPSHOT = """\
<div class="exhibit" id="tbl-example">
<p class="table-caption" id="tbl-example-caption"><span class="label">Table 3.</span> Reduction &lt;by&gt; group.</p>
<div class="table-scroll" role="region" aria-labelledby="tbl-example-caption" tabindex="0">
<table aria-labelledby="tbl-example-caption">
  <caption><span class="label">Table 3.</span> Reduction &lt;by&gt; group.</caption>
  <thead>
    <tr><th scope="col">Group</th><th scope="col">Patients</th><th scope="col">Mean</th></tr>
  </thead>
  <tbody>
    <tr class="section"><th scope="rowgroup" colspan="3">Diagnosis</th></tr>
    <tr class="subrow"><th scope="row">CRPS</th><td>18</td><td>7.2</td></tr>
    <tr class="row"><th scope="row">All</th><td>49</td><td>5.9</td></tr>
  </tbody>
</table>
</div>
<p class="table-notes">A note.</p>
</div>"""


def test_table_partial():
    assert str(render_macro("_exhibits.html", "table", TABLE)) == TABLE_SNAPSHOT


def test_the_partials_escape_text_and_refuse_a_missing_value():
    # Autoescape: a caption's "<by>" is text, not markup (checked in the snapshot); StrictUndefined: a missing
    # field fails the render instead of printing blank.
    with pytest.raises(UndefinedError):
        render_macro("_exhibits.html", "table", {"id": "tbl-x", "number": 1, "caption": "c", "columns": []})
