"""The Quarto project rendered by the real Quarto CLI: the demo and a generated dataset.

In CI, tests/conftest.py installs Quarto with ../shared/quarto/install.sh; elsewhere these tests use
the ``quarto`` on the PATH and skip without one. Each checks what a reader sees: every number of the
abstract in the HTML text and in the PDF text, no unresolved variable, a self-contained HTML file,
and nothing set past the right margin of the PDF (every SHA-256 digest whole on one line).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from ketareport import cli
from ketareport.present.formats import (
    format_count,
    format_mean,
    format_p_statement,
    format_percent,
    format_proportion,
    format_proportion_interval,
    format_se,
)

from ..conftest import DEMO, _missing_r_packages, _missing_tool
from .test_quarto import build_report, write_report

pytestmark = [pytest.mark.slow, pytest.mark.quarto]

GENERATED = {"patients": "120", "seed": "11"}
MARGIN_PT = 22 / 25.4 * 72  # _quarto.yml: margin x 22mm
MARGIN_Y_PT = 24 / 25.4 * 72  # and y 24mm


def quarto_render(quarto: Path, project: Path, *documents: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{quarto.parent}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    completed = subprocess.run([str(quarto), "render", *documents], cwd=project, capture_output=True, text=True,
                               env=env, check=False)
    print(f"quarto render {' '.join(documents)} in {project}: {time.perf_counter() - start:.1f} s")
    return completed


@pytest.fixture(scope="module", params=["demo", "generated"])
def rendered(request, quarto, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp(f"quarto-{request.param}")
    dataset = DEMO
    if request.param == "generated":
        dataset = root / "data"
        result = CliRunner().invoke(cli.main, ["demo-data", "--out", str(dataset), "--patients",
                                               GENERATED["patients"], "--seed", GENERATED["seed"]])
        assert result.exit_code == 0, result.output
    built = write_report(root / "out", build_report(dataset))
    project = built["project"]
    completed = quarto_render(quarto, project, "templates/manuscript.qmd")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    manuscript = project / "_output" / "templates" / "manuscript"
    pdf = manuscript.with_suffix(".pdf")
    return {
        **built,
        "output": output,
        "html": manuscript.with_suffix(".html").read_text(encoding="utf-8"),
        "pdf": pdf,
        "pdf_text": subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout,
        "results": json.loads((root / "out" / "results.json").read_text(encoding="utf-8")),
    }


@pytest.fixture(scope="session", autouse=True)
def pdftotext():
    if shutil.which("pdftotext") is None:
        _missing_tool("pdftotext is not installed (apt-get install poppler-utils)")


class _Text(HTMLParser):
    """The visible text of an HTML page (no script or style)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def plain(text: str) -> str:
    """One line of text with single spaces: no-break spaces and word joiners as the reader sees them."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u2060", "")).strip()


def html_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return plain(html.unescape(" ".join(parser.parts)))


def abstract_of(text: str, heading: str) -> str:
    """The abstract: from its heading to the Introduction's."""
    match = re.search(rf"{heading} (.*?) Introduction ", text)
    assert match, f"no abstract in {text[:400]!r}"
    return match.group(1)


def abstract_numbers(results: dict) -> list[str]:
    """Every number the abstract prints, formatted by the engine's formats from results.json."""
    cohort, vas, relief = results["cohort"], results["vas"], results["relief"]
    numbers = [format_count(cohort[key]) for key in ("n_patients", "n_infusions", "n_infusions_excluded", "n_index",
                                                     "n_comparison")]
    numbers += [format_percent(cohort["index_percent"]), format_percent(cohort["comparison_percent"])]
    for group in ("overall", "index", "comparison", "difference"):
        estimate = vas[group]
        numbers.append(format_mean(estimate["estimate"]))
        if estimate["std_error"] is not None:
            numbers.append(format_se(estimate["std_error"]))
        if estimate["p_value"] is not None:
            numbers.append(format_p_statement(estimate["p_value"]))
    if relief["n_recorded"]:
        numbers.append(format_count(relief["n_recorded"]))
        for outcome in relief["outcomes"]:
            if outcome["n_evaluable"]:
                numbers += [format_proportion(outcome["estimate"]),
                            format_proportion_interval(outcome["conf_low"], outcome["conf_high"]),
                            f"{outcome['x']} of {outcome['n_evaluable']}"]
    return [plain(number) for number in numbers]


def test_quarto_renders_every_variable(rendered):
    assert "Unknown var" not in rendered["output"], rendered["output"]
    assert "?var:" not in html_text(rendered["html"])
    assert "?var:" not in rendered["pdf_text"]
    assert "{{<" not in html_text(rendered["html"]) and "{{<" not in rendered["pdf_text"]


def test_every_number_of_the_abstract_is_in_the_html_and_the_pdf(rendered):
    html_abstract = abstract_of(html_text(rendered["html"]), "Abstract")
    pdf_abstract = abstract_of(plain(rendered["pdf_text"]), "ABSTRACT")
    expected = abstract_numbers(rendered["results"])
    assert len(expected) >= 15
    for number in expected:
        assert number in html_abstract, (number, html_abstract)
        assert number in pdf_abstract, (number, pdf_abstract)


def test_html_is_self_contained(rendered):
    page = rendered["html"]
    references = re.findall(r"<(?:script|img|link|source|iframe|embed)\b[^>]*?\b(?:src|href)=\"([^\"]*)\"", page)
    assert references, "no embedded resource at all"
    external = [ref for ref in references if not ref.startswith(("data:", "#"))]
    assert not external, external[:5]
    assert "figures/" not in re.sub(r"data:[^\"]*", "", page)


def test_every_digest_is_whole_on_one_line_of_the_pdf(rendered):
    lines = rendered["pdf_text"].splitlines()
    dataset = rendered["results"]["provenance"]["dataset"]
    digests = [file["sha256"] for file in dataset["files"]] + [dataset["digest"]]  # each file's, and the data digest
    assert len(digests) > 1
    for digest in digests:
        assert any(digest in line for line in lines), digest


def word_boxes(pdf: Path) -> list[tuple[float, float, list[tuple[str, float, float]]]]:
    """Per page: width, height and each word with its right and bottom edge (pdftotext -bbox)."""
    boxes = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for width, height, body in re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', boxes,
                                          flags=re.DOTALL):
        words = re.findall(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', body)
        pages.append((float(width), float(height), [(html.unescape(w), float(x), float(y)) for x, y, w in words]))
    return pages


def test_nothing_is_set_past_the_right_margin(rendered):
    """Every word of the PDF ends inside the text area, give or take the few points by which Typst hangs
    punctuation and hyphens into the margin."""
    pages = word_boxes(rendered["pdf"])
    assert sum(len(words) for _, _, words in pages) > 1000
    for number, (width, _, words) in enumerate(pages, start=1):
        limit = width - MARGIN_PT + 4
        overflowing = [(word, x_max) for word, x_max, _ in words if x_max > limit]
        assert not overflowing, (number, limit, overflowing[:10])


def test_no_page_is_left_half_empty(rendered):
    """Every page but the last has text in its lower half (the flow diagram used to stand alone on a page,
    its caption half-way down and the rest blank, because the table after it could not break)."""
    pages = word_boxes(rendered["pdf"])
    for number, (_, height, words) in enumerate(pages[:-1], start=1):
        body = [y_max for _, _, y_max in words if y_max < height - MARGIN_Y_PT]  # not the page number
        assert body and max(body) > height / 2, (number, max(body, default=0), height)


def test_r_template_renders_through_quarto(rendered, quarto, rscript):
    if _missing_r_packages(rscript, ("knitr", "rmarkdown")):
        _missing_tool("R packages knitr and rmarkdown are needed (apt-get install r-cran-knitr r-cran-rmarkdown)")
    completed = quarto_render(quarto, rendered["project"], "templates/results-r.qmd")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    page = (rendered["project"] / "_output" / "templates" / "results-r.html").read_text(encoding="utf-8")
    text = html_text(page)
    cohort = rendered["results"]["cohort"]
    assert f"Patients: {cohort['n_patients']} infusions: {cohort['n_infusions']}" in text


def test_no_patient_or_infusion_id_is_printed(rendered):
    """results.rds holds the ids (the analyst's file); the manuscript never prints them."""
    cohort = rendered["run"].cohort
    ids = [*cohort.patients["patient_id"], *cohort.infusions["infusion_id"]]
    texts = {"HTML": html_text(rendered["html"]), "PDF": plain(rendered["pdf_text"])}
    for name, text in texts.items():
        printed = [identifier for identifier in ids if re.search(rf"\b{re.escape(identifier)}\b", text)]
        assert not printed, (name, printed[:5])
