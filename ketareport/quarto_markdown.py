"""Markdown for Quarto: text escaped to read back as written, code spans, pipe tables, and the
``{{< var >}}`` and ``{{< include >}}`` shortcodes resolved as Quarto does, to check a project without Quarto.

Two facts about Quarto shape the variables: ``{{< var >}}`` inserts a value
*inline* -- Quarto reads ``_variables.yml`` into the document's metadata,
where pandoc parses each string as Markdown, and a value of several blocks
is squashed into one paragraph with line breaks -- so each value is one
paragraph at most; and because the value is Markdown, characters Markdown
would read as formatting (``> 21 days`` is a block quote, ``--verify`` an en
dash) are backslash-escaped by :func:`escape_markdown`.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .present.context import Table

VARIABLE = re.compile(r"\{\{<\s*var\s+([^\s>]+)\s*>\}\}")
INCLUDE = re.compile(r"\{\{<\s*include\s+([^\s>]+)\s*>\}\}")
_ALWAYS_ESCAPED = frozenset("\\`*_[]{}$@^~|&'\"")
_LIST_MARKER = re.compile(r"(?:\d+|[A-Za-z]|[ivxlcdmIVXLCDM]+)(?=[.)](?:\s|$))")


def escape_markdown(text: str) -> str:
    """``text`` as Pandoc Markdown that reads back as exactly ``text``, in one paragraph.

    Backslash-escapes what Markdown (with Quarto's ``smart`` typography) would
    otherwise interpret: emphasis, code, links, math, citations, super- and
    subscripts, quotes, HTML and entities, pipes, dashes made of hyphens,
    ellipses, and block markers at the start (``> 21 days`` would be a block
    quote, ``2004. All`` a list). Everything else stays as typed, so
    ``_variables.yml`` stays readable: ``< 0.001``, ``37%``, ``59–85%``.

    Raises ValueError for a line break: a ``{{< var >}}`` value is one paragraph.
    """
    if "\n" in text or "\r" in text:
        raise ValueError(f"a Quarto variable holds one paragraph, not several lines: {text!r}")
    text = text.strip(" \t")
    list_marker = _LIST_MARKER.match(text)
    delimiter = list_marker.end() if list_marker else -1
    out = []
    for i, char in enumerate(text):
        following = text[i + 1] if i + 1 < len(text) else ""
        if char in _ALWAYS_ESCAPED or i == delimiter:
            escape = True
        elif char == "<":  # "< 0.001" is text; "<b", "<http", "<!--" could open HTML or a link
            escape = following != "" and not following.isspace()
        elif char in "#>+%(":  # heading, block quote, list, title block, example list: only at the start
            escape = i == 0
        elif char == "-":  # a list at the start; "--" and "---" would become dashes
            escape = i == 0 or following == "-" or (i > 0 and text[i - 1] == "-")
        elif char == ".":  # "..." would become an ellipsis
            escape = "..." in text[max(0, i - 2):i + 3]
        else:
            escape = False
        out.append("\\" + char if escape else char)
    return "".join(out)


def code_span(text: str) -> str:
    """Inline code that holds ``text`` verbatim, whatever backticks it contains."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(text: str, language: str = "") -> str:
    """A fenced code block that holds ``text`` verbatim."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def column_widths(header: list[str], rows: list[list[str]]) -> list[int]:
    """Percent widths for ``tbl-colwidths``, in proportion to what each column must hold on one line.

    Without them Quarto gives every column the same width, and in the PDF the first column (labels
    such as "Post herpetic neuralgia") wraps in a quarter of the page. A column needs its longest cell
    (cells do not wrap well: numbers with their intervals) and its header's longest word or half the
    header (headers may take two lines); the percentages add up to 100.
    """
    needs = []
    for position, title in enumerate(header):
        cells = [len(row[position]) for row in rows if position < len(row)]
        words = max((len(word) for word in title.split()), default=0)
        needs.append(max([words, (len(title) + 1) // 2, *cells]) + 2)
    total = sum(needs)
    widths = [round(100 * need / total) for need in needs]
    widths[0] += 100 - sum(widths)
    return widths


def markdown_table(table: Table, numbered: bool = True) -> str:
    """A pipe table with its caption (and, when ``numbered``, its ``#tbl-`` id for Quarto's numbering)
    and its column widths (:func:`column_widths`)."""
    width = len(table.columns)
    # "(n = 206)" stays on one line when a header wraps.
    headers = [escape_markdown(column).replace(" = ", "\u00a0=\u00a0") for column in table.columns]
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + ":---|" + "---:|" * (width - 1),
    ]
    for row in table.rows:
        if row.kind == "section":
            lines.append(f"| *{escape_markdown(row.label)}* |" + " |" * (width - 1))
        else:
            indent = "\u00a0\u00a0\u00a0" if row.kind == "subrow" else ""
            cells = [indent + escape_markdown(row.label), *map(escape_markdown, row.cells)]
            lines.append("| " + " | ".join(cells) + " |")
    indent = len("\u00a0\u00a0\u00a0")
    widths = column_widths(table.columns, [
        [(" " * indent if row.kind == "subrow" else "") + row.label, *row.cells] for row in table.rows
    ])
    attributes = " ".join([f"#{table.id}"] * numbered + [f'tbl-colwidths="[{",".join(map(str, widths))}]"'])
    caption = f": {escape_markdown(table.caption)} {{{attributes}}}"
    notes = "".join(f"\n\n{escape_markdown(note)}" for note in table.notes)
    return "\n".join([*lines, "", caption]) + notes + "\n"


def pairs_table(caption: str, headers: tuple[str, str], rows: list[list[str]]) -> str:
    """A two-column appendix table (unnumbered, like the HTML appendix's tables), as wide as its content.

    Its caption is a paragraph above it: Typst drops the caption of a table that is not numbered.
    """
    lines = [f"| {headers[0]} | {headers[1]} |", "|:---|:---|"]
    for name, value in rows:
        lines.append(f"| {escape_markdown(name)} | {escape_markdown(value)} |")
    return "\n".join([escape_markdown(caption), "", *lines]) + "\n"


def substitute_shortcodes(text: str, variables: dict[str, Any], base: Path, _nested: bool = False) -> str:
    """Resolve ``{{< include >}}`` and ``{{< var >}}`` as Quarto does, to check a project without Quarto.

    ``variables`` is the parsed ``_variables.yml`` and ``base`` the directory of
    the document. An include is pasted in place (its links stay relative to
    the document); a variable is replaced by its text, which is Quarto's
    result for a one-paragraph value. Raises KeyError for an undefined
    variable, ValueError for a value Quarto would not insert as written (a
    map, several lines) or an include inside an included file, and
    FileNotFoundError for a missing include.
    """
    def include(match):
        if _nested:
            raise ValueError(f"include inside an included file: {match.group(1)}")
        return substitute_shortcodes((base / match.group(1)).read_text(encoding="utf-8"), variables, base, True)

    def variable(match):
        value: Any = variables
        for part in match.group(1).split("."):
            if not isinstance(value, dict) or part not in value:
                raise KeyError(f"undefined Quarto variable {match.group(1)!r}")
            value = value[part]
        if not isinstance(value, str) or "\n" in value:
            raise ValueError(f"Quarto variable {match.group(1)!r} is not one paragraph of text: {value!r}")
        return value

    return VARIABLE.sub(variable, INCLUDE.sub(include, text))

