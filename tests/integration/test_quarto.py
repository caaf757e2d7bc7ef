"""The Quarto project: variables defined and read back as formatted, YAML valid, paths present,
pandoc converts it with the numbers, R chunks run. The Quarto CLI is not installed here: where
Quarto itself would act, pandoc (pypandoc-binary) stands in, the way Quarto uses it."""

from __future__ import annotations

import csv
import json
import re
import shutil
import stat
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ketareport import cli, report
from ketareport.output import StagedOutput
from ketareport.pipeline import run_analysis
from ketareport.errors import QuartoFailed
from ketareport.quarto import render_quarto, shipped_templates
from ketareport.quarto_content import quarto_variables, variables_yaml
from ketareport.quarto_markdown import INCLUDE, VARIABLE, escape_markdown, markdown_table, substitute_shortcodes

from ..conftest import DEMO, REPO
from ..datasets import write_csv_dataset

# A study whose labels and title hold every character Markdown would read as formatting.
HOSTILE_STUDY = """\
study:
  title: "Ketamine *infusions*: 'a' [test] of `markup` -- and <b>HTML</b>"
  authors: ["O'Brien, A.", {name: "B_Author", affiliation: "Dept. #1 & Co | 50% > rest"}]
  review_board: "> Approved -- protocol #1 (no. 2004. A) $5 @ref ^sup^ ~sub~ {.class}"
  keywords: ["ketamine", "1. first"]
analysis:
  index_label: "CRPS_1 *type* 'I'"
  comparison_label: "Others [all] -- \\"rest\\""
  relief:
    thresholds:
      - {name: lasting, days: 7, inclusive: true, label: "> 1 week*"}
      - {name: long, days: 21, inclusive: false, label: "- over 3 weeks..."}
"""


def pandoc():
    import pypandoc

    return pypandoc


def build_report(dataset: Path) -> report.Report:
    """The report of ``dataset`` as `render --quarto` builds it, without the PDF."""
    return report.build(run_analysis(dataset, command=["ketareport", "render", str(dataset), "--quarto"]), pdf=False)


@pytest.fixture(scope="module")
def demo_report() -> report.Report:
    """The demo's report, built once: the tests of the project's files write it again and again."""
    return build_report(DEMO)


def write_report(folder: Path, built: report.Report) -> dict:
    """Write results and the Quarto project of a built report, as `render --quarto` does."""
    run = built.run
    with StagedOutput(folder) as staged:
        report.write(built, staged, quarto=True)
        staged.publish()
    return {"project": folder / "quarto", "context": built.context, "variables": quarto_variables(built.context),
            "run": run}


# Two patients, one per group: no SE, no test, no mixed model, no relief recorded, no side effect.
EDGE_PATIENTS = "patient_id,diagnosis,relief_duration_days\nP1,crps,\nP2,headache,\n"
EDGE_INFUSIONS = """\
infusion_id,patient_id,infusion_date,ketamine_dose_mg,infusion_duration_min,vas_pre,vas_post
I1,P1,2005-01-02,100,60,8,2
I2,P2,2005-01-03,100,60,8,3
"""


@pytest.fixture(scope="module", params=["demo", "small-hostile", "edge"])
def built(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    if request.param == "demo":
        return write_report(root / "out", request.getfixturevalue("demo_report"))
    if request.param == "edge":
        return write_report(root / "out", build_report(write_csv_dataset(root / "data", EDGE_PATIENTS, EDGE_INFUSIONS)))
    dataset = write_csv_dataset(root / "data")
    (dataset / "study.yml").write_text(HOSTILE_STUDY, encoding="utf-8")
    return write_report(root / "out", build_report(dataset))


@pytest.fixture(scope="module")
def project(built) -> Path:
    return built["project"]


def written_variables(project: Path) -> dict:
    return yaml.safe_load((project / "_variables.yml").read_text(encoding="utf-8"))


def leaves(tree: dict, prefix: str = "") -> dict[str, object]:
    out = {}
    for key, value in tree.items():
        name = f"{prefix}.{key}" if prefix else key
        out.update(leaves(value, name) if isinstance(value, dict) else {name: value})
    return out


def qmd_files(project: Path) -> list[Path]:
    return sorted((project / "templates").glob("*.qmd"))


def included_files(project: Path) -> list[Path]:
    return sorted((project / "templates").glob("_*/*.md"))


def metadata_text(values: dict[str, str]) -> dict[str, str]:
    """How Quarto reads each value: ``_variables.yml`` becomes document metadata, where pandoc parses
    every string as Markdown; ``{{< var >}}`` then inserts the result inline. Returns the plain text
    of each value, failing on anything but one paragraph of text (a block quote, a list, emphasis,
    smart quotes, a link, math ... would not print as the value was formatted)."""
    names = list(values)
    front = yaml.safe_dump({f"v{i}": values[name] for i, name in enumerate(names)}, allow_unicode=True, width=10_000)
    ast = json.loads(pandoc().convert_text(f"---\n{front}---\n", "json", format="markdown", extra_args=["-s"]))

    def inline_text(inline, name):
        kind = inline["t"]
        if kind in ("Str", "Code"):
            return inline["c"] if kind == "Str" else inline["c"][1]
        if kind == "Space":
            return " "
        raise AssertionError(f"{name}: Markdown read {kind} in {values[name]!r}")

    out = {}
    for i, name in enumerate(names):
        meta = ast["meta"][f"v{i}"]
        assert meta["t"] == "MetaInlines", f"{name}: {values[name]!r} is read as {meta}"
        out[name] = "".join(inline_text(inline, name) for inline in meta["c"])
    return out


# ------------------------------------------------------------------ variables --

def test_every_variable_used_is_defined(project):
    defined = written_variables(project)
    used = set()
    for source in [*qmd_files(project), *included_files(project)]:
        used |= set(VARIABLE.findall(source.read_text(encoding="utf-8")))
    assert {"narrative.cohort", "narrative.overall_reduction", "narrative.group_difference", "phrases.period",
            "appendix.generated_at"} <= used
    for name in used:
        value = defined
        for part in name.split("."):
            assert isinstance(value, dict) and part in value, f"undefined: {name}"
            value = value[part]
        assert isinstance(value, str) and "\n" not in value, name


def test_every_variable_reads_back_as_its_formatted_text(built):
    """Each value, parsed by pandoc as Quarto parses _variables.yml, prints exactly what present.py formatted."""
    formatted = leaves(built["variables"])
    written = leaves(written_variables(built["project"]))
    assert set(written) == set(formatted)
    assert metadata_text(written) == {name: text.strip(" \t") for name, text in formatted.items()}


TRICKY = [
    "> 21 days", ">99%", "<1%", "< 0.001", "<b>bold</b>", "<http://x.org>", "<!-- c -->",
    "render DATASET --verify", "a --- b", "wait...", "1.5 to 2.5", "2004. All", "a) first", "(a) first",
    "iv. fourth", "#1 rank", "# heading", "- item", "+ item", "* item", "% title",
    "patients' mean", '"quoted"', "*P*", "x_1_", "[SE] 0.35", "[link](http://x)", "$5 and $6", "@ref",
    "2^10^", "H~2~O", "{.class}", "a | b", "&amp; &lt;", "back\\slash", "`code`", "{{< var x >}}",
    "P\u00a0=\u00a00.002", "59–\u206085%", "α = 0.05", "X′WX", "−0.5", "N-methyl-D-aspartate", "Q&A",
]


def test_escape_markdown_reads_back_as_the_text():
    """Each tricky text, escaped, reads back as itself (one pandoc run for all: a run costs a process start)."""
    escaped = {f"value{number}": escape_markdown(text) for number, text in enumerate(TRICKY)}
    assert metadata_text(escaped) == {f"value{number}": text for number, text in enumerate(TRICKY)}


def test_escape_markdown_leaves_numbers_readable():
    for text in ["5.9", "< 0.001", "37%", "0.8 to 3.5", "≥ 7 days", "P = 0.002", "59–85%"]:
        assert escape_markdown(text) == text


def test_a_variable_of_several_lines_is_refused():
    with pytest.raises(ValueError, match="one paragraph"):
        variables_yaml({"sections": {"x": "first\n\nsecond"}})


# ----------------------------------------------------------- files and paths --

def test_every_yaml_file_parses(project, built):
    for path in [REPO / "_quarto.yml", *project.glob("*.yml")]:
        assert isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), dict), path
    for qmd in qmd_files(project):
        front = qmd.read_text(encoding="utf-8").split("---\n")[1]
        assert isinstance(yaml.safe_load(front), dict), qmd
    config = yaml.safe_load((project / "_quarto.yml").read_text(encoding="utf-8"))
    assert (project / "_quarto.yml").read_text(encoding="utf-8") == (REPO / "_quarto.yml").read_text(encoding="utf-8")
    assert config["format"]["html"]["embed-resources"] is True and "typst" in config["format"]
    for rendered in config["project"]["render"]:
        assert (project / rendered).is_file(), rendered
    for metadata in config["metadata-files"]:
        assert (project / metadata).is_file(), metadata
    study = yaml.safe_load((project / "_metadata-study.yml").read_text(encoding="utf-8"))
    title = built["context"].title
    assert study["title"] == title.title
    assert [author["name"] for author in study.get("author", [])] == [author.name for author in title.authors]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", study["date"]) and study["date-format"] == "D MMMM YYYY"
    assert study["papersize"] == "a4"


def test_every_include_and_figure_exists(project, built):
    manuscript = project / "templates" / "manuscript.qmd"
    includes = INCLUDE.findall(manuscript.read_text(encoding="utf-8"))
    assert {"_sections/appendix.md", "_exhibits/table-vas.md", "_exhibits/figure-flow.md"} <= set(includes)
    for include in includes:
        assert (manuscript.parent / include).is_file(), include
    for part in included_files(project):
        text = part.read_text(encoding="utf-8")
        assert not INCLUDE.search(text), f"nested include in {part.name}"  # Quarto resolves those inconsistently
        for image in re.findall(r"\]\((figures/[^)]+)\)", text):  # relative to the including document
            assert (manuscript.parent / image).read_text(encoding="utf-8").startswith("<svg"), image
    context = built["context"]
    body = substitute_shortcodes(manuscript.read_text(encoding="utf-8"), written_variables(project), manuscript.parent)
    for figure in context.figures.values():
        assert f"(figures/{figure.file}){{#{figure.id} " in body
    for r_file in ("results.rds", "estimates.csv"):
        assert (project / "templates" / r_file).read_bytes() == (project.parent / r_file).read_bytes()


def test_no_number_is_typed_in_the_templates():
    for name in ("manuscript.qmd", "results-r.qmd"):
        text = (REPO / "templates" / name).read_text(encoding="utf-8")
        body = re.sub(r"```\{r\}.*?```", "", text.split("---\n", 2)[2], flags=re.DOTALL)  # R code may hold digits
        body = body.replace("10-cm visual analogue scale", "")  # the scale's length: the design, not a result
        assert not re.search(r"\d", body), name


def test_quarto_numbers_tables_and_figures_as_the_html_report(project, built):
    """Quarto numbers #tbl- and #fig- in order of appearance; the prose says "Table 3", so the order must agree."""
    manuscript = project / "templates" / "manuscript.qmd"
    body = substitute_shortcodes(manuscript.read_text(encoding="utf-8"), written_variables(project), manuscript.parent)
    context = built["context"]
    tables = sorted(context.tables.values(), key=lambda t: t.number)
    figures = sorted(context.figures.values(), key=lambda f: f.number)
    assert re.findall(r"\{#(tbl-[\w-]+)[ }]", body) == [t.id for t in tables]
    assert re.findall(r"\{#(fig-[\w-]+) ", body) == [f.id for f in figures]


# --------------------------------------------------------------------- pandoc --

@pytest.mark.slow
def test_pandoc_converts_each_document_with_the_numbers(project, built):
    values = written_variables(project)
    text = metadata_text({name: value for name, value in leaves(values).items()
                          if name.split(".")[0] in ("vas", "relief", "cohort", "text", "sensitivity")})
    manuscript = project / "templates" / "manuscript.qmd"
    html = pandoc().convert_text(substitute_shortcodes(manuscript.read_text(encoding="utf-8"), values, manuscript.parent),
                                 "html", format="markdown", extra_args=["--wrap=none"])
    import html as entities

    html = entities.unescape(html)
    expected = [text[name] for name in (
        "vas.overall.estimate", "vas.overall.std_error", "vas.overall.conf_int", "vas.difference.estimate",
        "vas.difference.p", "vas.index.conf_int", "cohort.n_patients", "cohort.n_infusions_excluded", "text.results",
        "relief.lasting.interval", "relief.long.interval", "sensitivity.conf_int",
    ) if name in text]
    assert len(expected) >= 11
    for value in expected:
        assert value in html, value
    assert html.count("<table") == len(built["context"].tables) + 4  # plus the appendix's four (files, rows, versions, configuration)
    assert "<blockquote" not in html and "<ol" not in html and "<ul" not in html
    assert "{{<" not in html and "?var" not in html
    for figure in built["context"].figures.values():
        assert f'src="figures/{figure.file}"' in html
    r_template = project / "templates" / "results-r.qmd"
    assert "readRDS" in pandoc().convert_text(r_template.read_text(encoding="utf-8"), "html", format="markdown")


def test_an_undefined_variable_or_a_nested_include_is_reported(project):
    with pytest.raises(KeyError, match="vas.nothing"):
        substitute_shortcodes("{{< var vas.nothing >}}", written_variables(project), project)
    with pytest.raises(ValueError, match="not one paragraph"):
        substitute_shortcodes("{{< var vas.overall >}}", written_variables(project), project)
    (project / "_nested.md").write_text("{{< include _nested.md >}}\n")
    with pytest.raises(ValueError, match="include inside an included file"):
        substitute_shortcodes("{{< include _nested.md >}}", {}, project)
    (project / "_nested.md").unlink()


# -------------------------------------------------------------------------- R --

@pytest.mark.r
def test_r_template_knits_and_prints_the_estimates(project, built, tmp_path, run_r, knitr):
    """Knit the R template as Quarto's knitr engine does (Rscript, knitr), then check the table against estimates.csv."""
    templates = tmp_path / "templates"
    shutil.copytree(project / "templates", templates)
    run_r('knitr::knit("results-r.qmd", output = "results-r.md", quiet = TRUE)', cwd=templates)
    knitted = (templates / "results-r.md").read_text(encoding="utf-8")
    cohort = json.loads((project.parent / "results.json").read_text(encoding="utf-8"))["cohort"]
    assert (f"Patients: {cohort['n_patients']}  infusions: {cohort['n_infusions']}  "
            f"excluded for missing data: {cohort['n_infusions_excluded']}") in knitted
    estimates_table = knitted.split("Table: Estimates", 1)[1].split("\n\n")[1]  # the caption, then the table
    header, *rows = [line for line in estimates_table.splitlines() if line.startswith("|") and not line.startswith("|:")
                     and not line.startswith("|-")]
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    printed = {(cells["analysis"], cells["term"]): cells
               for cells in (dict(zip(columns, (c.strip() for c in row.strip("|").split("|")))) for row in rows)}
    with (project / "templates" / "estimates.csv").open(encoding="utf-8") as handle:
        expected = list(csv.DictReader(handle))
    assert len(printed) == len(expected)
    for row in expected:
        cells = printed[(row["analysis"], row["term"])]
        for column in ("estimate", "std_error", "conf_low", "conf_high", "n", "x"):
            if row[column] == "":
                assert cells[column] == "", (row, column)
            else:
                assert float(cells[column]) == pytest.approx(float(row[column]), abs=0.0005 + 1e-9), (row, column)
    assert re.search(r"!\[Mean VAS reduction[^]]*\]\((figure/vas-plot-1\.\w+)\)", knitted)
    # The worked extension: one row per diagnosis, patients adding up to the analysed patients; no patient id.
    by_diagnosis = knitted.split("Table: Mean VAS reduction (cm) by diagnosis", 1)[1].split("\n\n")[1]
    counts = [int(line.split("|")[2]) for line in by_diagnosis.splitlines()[2:]]
    assert sum(counts) == cohort["n_patients_analyzed"]
    assert len(counts) == len(set(built["run"].cohort.analyzed_patients["diagnosis"]))
    assert "Mean of" in knitted and "Error" not in knitted
    for patient_id in built["run"].cohort.patients["patient_id"]:
        assert not re.search(rf"\b{re.escape(patient_id)}\b", knitted), patient_id
    html = pandoc().convert_text(knitted, "html", format="markdown")
    assert "<table" in html and "difference" in html


# --------------------------------------------------------------- quarto render --

def test_render_quarto_without_quarto_says_none(project, monkeypatch):
    monkeypatch.setattr("ketareport.quarto.shutil.which", lambda name: None)
    assert render_quarto(project) is None


@pytest.fixture
def fake_quarto(tmp_path, monkeypatch):
    """A stand-in quarto executable (the Quarto CLI cannot be installed on these machines): it logs its
    arguments and writes the output a render of that document would, or fails for a file named fail.qmd."""
    log = tmp_path / "quarto.log"
    fake = tmp_path / "bin" / "quarto"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {log}\n'
        'case "$2" in *fail*) echo "ERROR: compilation failed" >&2; exit 1;; esac\n'
        'name=$(basename "$2" .qmd)\nmkdir -p _output/templates\n'
        'echo html > "_output/templates/$name.html"\necho pdf > "_output/templates/$name.pdf"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)

    def which(tools):
        monkeypatch.setattr("ketareport.quarto.shutil.which",
                            lambda name: {"quarto": str(fake), "Rscript": "/usr/bin/Rscript"}.get(name) if name in tools else None)
    return log, which


def test_render_quarto_runs_quarto_when_installed(project, fake_quarto):
    log, which = fake_quarto
    which({"quarto", "Rscript"})
    stale = project / "_output" / "old.html"
    stale.parent.mkdir(exist_ok=True)
    stale.write_text("from an earlier render")
    outputs = render_quarto(project)
    assert log.read_text().splitlines() == ["render templates/manuscript.qmd", "render templates/results-r.qmd"]
    assert outputs == sorted(project / "_output" / "templates" / f"{name}.{ext}"
                             for name in ("manuscript", "results-r") for ext in ("html", "pdf"))
    shutil.rmtree(project / "_output")


def test_render_quarto_skips_the_r_template_without_r(project, fake_quarto):
    log, which = fake_quarto
    which({"quarto"})
    messages = []
    outputs = render_quarto(project, progress=messages.append)
    assert log.read_text().splitlines() == ["render templates/manuscript.qmd"]
    assert [p.name for p in outputs] == ["manuscript.html", "manuscript.pdf"]
    assert any("results-r.qmd" in m and "Rscript" in m for m in messages)
    shutil.rmtree(project / "_output")


def test_a_failing_quarto_render_is_reported(project, fake_quarto, monkeypatch):
    _, which = fake_quarto
    which({"quarto"})
    monkeypatch.setattr("ketareport.quarto.MANUSCRIPT", "templates/fail.qmd")
    with pytest.raises(QuartoFailed, match="(?s)quarto render templates/fail.qmd failed.*compilation failed"):
        render_quarto(project)


@pytest.mark.slow
def test_render_command_writes_the_project_and_says_how_to_render(tmp_path, monkeypatch):
    monkeypatch.setattr("ketareport.quarto.shutil.which", lambda name: None)
    result = CliRunner().invoke(cli.main, ["render", str(DEMO), "--out", str(tmp_path), "--quarto"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"cd {tmp_path / 'quarto'} && quarto render" in result.output
    for name in ("_quarto.yml", "_variables.yml", "_metadata-study.yml", "templates/manuscript.qmd",
                 "templates/_sections/appendix.md", "templates/figures/figure-2-vas.svg", "templates/results.rds"):
        assert (tmp_path / "quarto" / name).is_file(), name


# ------------------------------------------------------------- Typst layout --

def test_table_columns_get_widths_by_content(built):
    """Quarto would give each column the same share; the label column must get what its labels need."""
    from ketareport.quarto_markdown import column_widths

    for table in built["context"].tables.values():
        rows = [[row.label, *row.cells] for row in table.rows]
        widths = column_widths(table.columns, rows)
        assert sum(widths) == 100 and len(widths) == len(table.columns) and min(widths) > 0
        longest_label = max(len(row.label) for row in table.rows)
        if longest_label > max(len(cell) for row in table.rows for cell in row.cells):
            assert widths[0] == max(widths), (table.id, widths)
        assert f'tbl-colwidths="[{",".join(map(str, widths))}]"' in markdown_table(table)


def test_title_block_lists_authors_with_marks_and_numbered_affiliations(project, built):
    study = yaml.safe_load((project / "_metadata-study.yml").read_text(encoding="utf-8"))
    title = built["context"].title
    block = study["title-block"]
    assert [author["marks"] for author in block.get("authors", [])] == [a.affiliation_marks for a in title.authors]
    shown = metadata_text({f"a{i}": text for i, text in enumerate(block.get("affiliations", []))})
    assert list(shown.values()) == title.affiliations
    assert metadata_text({"rb": block["review-board"]}) == {"rb": title.review_board}
    for name in ("typst/typst-template.typ", "typst/typst-show.typ", "fonts/texgyrepagella-regular.otf"):
        assert (project / name).is_file(), name


# ------------------------------------------------- the prose authors edit --

def manuscript_plain_text(project: Path, context) -> str:
    """The manuscript as a reader sees it: shortcodes substituted, cross-references numbered as Quarto
    numbers them, Markdown converted to plain text by pandoc, spaces and quotes normalised."""
    manuscript = project / "templates" / "manuscript.qmd"
    body = substitute_shortcodes(manuscript.read_text(encoding="utf-8"), written_variables(project), manuscript.parent)
    numbers = {table.id: f"Table {table.number}" for table in context.tables.values()}
    numbers |= {figure.id: f"Figure {figure.number}" for figure in context.figures.values()}
    body = re.sub(r"@((?:tbl|fig)-[\w-]+)", lambda match: numbers[match.group(1)], body)
    return normalised(pandoc().convert_text(body, "plain", format="markdown", extra_args=["--wrap=none"]))


def normalised(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"').replace("\u2060", "")
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


def test_quarto_manuscript_says_what_the_html_report_says(project, built):
    """The .qmd's prose around the variables is the HTML report's, paragraph for paragraph, for every
    dataset shape: the two manuscripts cannot disagree."""
    context = built["context"]
    text = manuscript_plain_text(project, context)
    paragraphs = [f"{section.heading}. {paragraph}" for section in context.abstract for paragraph in section.paragraphs]
    paragraphs += context.introduction + context.conclusions
    paragraphs += [paragraph for section in (*context.methods, *context.results) for paragraph in section.paragraphs]
    headings = [section.heading for section in (*context.methods, *context.results)]
    for paragraph in paragraphs:
        assert normalised(paragraph) in text, paragraph
    for heading in headings:
        assert heading in text, heading
    abstract = text.split(" Introduction ")[0]
    if context.title.keywords:
        assert f"Keywords: {normalised(context.title.keywords)}" in abstract
    else:
        assert "Keywords" not in abstract
    if not any(section.heading == "Side effects" for section in context.results):
        assert "Side effects" not in text.split("Conclusions")[0].split("Results")[-1]


def render_quarto_project(folder: Path, built: report.Report) -> list[str]:
    """Write the report with its Quarto project into ``folder`` (again); returns the progress messages."""
    messages: list[str] = []
    with StagedOutput(folder) as staged:
        report.write(built, staged, quarto=True, progress=messages.append)
        staged.publish()
    return messages


def test_an_authors_edit_survives_a_second_render(tmp_path, monkeypatch, demo_report):
    out = tmp_path / "out"
    render_quarto_project(out, demo_report)
    manuscript = out / "quarto" / "templates" / "manuscript.qmd"
    edited = manuscript.read_text(encoding="utf-8").replace(
        "## Introduction\n", "## Introduction\n\nAn author's own paragraph, with {{< var cohort.n_patients >}} patients.\n")
    manuscript.write_text(edited, encoding="utf-8")
    variables = out / "quarto" / "_variables.yml"
    variables.write_text("stale: \"engine-owned\"\n", encoding="utf-8")

    messages = render_quarto_project(out, demo_report)
    assert manuscript.read_text(encoding="utf-8") == edited
    assert "stale" not in variables.read_text(encoding="utf-8")  # engine-owned: rewritten
    assert not list((out / "quarto").rglob("*.new"))
    assert not any(".new" in message for message in messages)

    # A later version ships a changed manuscript template: the author's file stays, the new one goes beside it.
    shipped = shipped_templates()
    monkeypatch.setattr("ketareport.quarto.shipped_templates",
                        lambda: {**shipped, "templates/manuscript.qmd": shipped["templates/manuscript.qmd"] + "\nNew.\n"})
    messages = render_quarto_project(out, demo_report)
    assert manuscript.read_text(encoding="utf-8") == edited
    offered = manuscript.with_name("manuscript.qmd.new")
    assert offered.read_text(encoding="utf-8").endswith("\nNew.\n")
    assert any("quarto/templates/manuscript.qmd" in message and ".new" in message for message in messages)
    assert not any(".new" in message for message in render_quarto_project(out, demo_report))  # said once per change
    assert offered.is_file() and manuscript.read_text(encoding="utf-8") == edited  # on offer until removed
    offered.unlink()
    render_quarto_project(out, demo_report)
    assert not offered.exists() and manuscript.read_text(encoding="utf-8") == edited


def test_an_unedited_project_takes_no_new_file(tmp_path, demo_report):
    out = tmp_path / "out"
    render_quarto_project(out, demo_report)
    render_quarto_project(out, demo_report)
    assert not list((out / "quarto").rglob("*.new"))
    assert (out / "quarto" / "templates" / "manuscript.qmd").read_text(encoding="utf-8") == \
        (REPO / "templates" / "manuscript.qmd").read_text(encoding="utf-8")
