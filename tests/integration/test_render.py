"""The rendered manuscript: its numbers, self-containment, fonts, page size and reproducibility."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from ketareport import cli
from ketareport.present.formats import (
    format_count, format_count_cell, format_interval, format_mean, format_mean_sd, format_median_iqr, format_p,
    format_proportion, format_proportion_interval, format_se, median_iqr_decimals,
)
from ketareport.results import ContinuousCell, CountCell

from ..conftest import DEMO

EPOCH = "1330560000"  # 2012-03-01, any fixed instant


def render(out, *extra, exit_code=0):
    arguments = ["render", str(DEMO), "--out", str(out), *extra]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", ["ketareport", *arguments])  # the command line the appendix records
        result = CliRunner().invoke(cli.main, arguments, catch_exceptions=False)
    assert result.exit_code == exit_code, result.output
    return out


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The demo rendered twice, into two different output folders."""
    root = tmp_path_factory.mktemp("renders")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        first = render(root / "report")
        second = render(root / "elsewhere" / "other-name")
    return first, second


def plain(text: str) -> str:
    """Text as a reader sees it: no-break spaces as spaces, invisible joiners gone, one space per run."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u2060", ""))


def html_text(folder) -> str:
    html = (folder / "ketamine-report.html").read_text()
    html = re.sub(r"<(style|svg)\b.*?</\1>", " ", html, flags=re.S)
    return plain(re.sub(r"<[^>]+>", " ", html).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


def pdf_text(folder) -> str:
    from pypdf import PdfReader

    return plain(" ".join(page.extract_text() for page in PdfReader(folder / "ketamine-report.pdf").pages))


def printed_values(results: dict) -> list[str]:
    """Every estimate of results.json that the report prints, formatted as the report formats it."""
    values = []
    for term in ("overall", "index", "comparison", "difference"):
        estimate = results["vas"][term]
        values += [format_mean(estimate["estimate"]), format_se(estimate["std_error"]),
                   format_interval(estimate["conf_low"], estimate["conf_high"]), format_p(estimate["p_value"])]
    for outcome in results["relief"]["outcomes"]:
        values += [format_proportion(outcome["estimate"]), plain(format_proportion_interval(outcome["conf_low"], outcome["conf_high"])),
                   f"{outcome['x']} / {outcome['n_evaluable']}"]
    model = results["sensitivity"]
    for term in ("intercept", "index"):
        values += [format_mean(model[term]["estimate"]), format_se(model[term]["std_error"]),
                   format_interval(model[term]["conf_low"], model[term]["conf_high"]), format_p(model[term]["p_value"])]
    values += [format_se(model[key]) for key in ("variance_patient", "variance_residual", "intraclass_correlation")]
    cohort = results["cohort"]
    values += [format_count(cohort[key]) for key in (
        "n_patients", "n_infusions", "n_infusions_excluded", "n_infusions_analyzed", "n_patients_analyzed",
        "n_index", "n_comparison", "n_index_infusions_analyzed", "n_comparison_infusions_analyzed",
    )]
    values += [format_count(count) for count in cohort["excluded_missing_by_column"].values()]
    values += [format_count(results["relief"]["n_recorded"])]
    return [plain(value) for value in values]


def characteristics_rows(results: dict) -> dict[str, list[list[str]]]:
    """Tables 1 and 2 as results.json holds them, each row's cells formatted as the report formats them."""
    tables = {}
    for unit, table in results["characteristics"].items():
        keys = [column["key"] for column in table["columns"]]
        rows = []
        for row in table["rows"]:
            if row["kind"] == "count":
                cells = [format_count_cell(CountCell(**row["cells"][key])) for key in keys]
            else:
                continuous = [ContinuousCell(**row["cells"][key]) for key in keys]
                if row["kind"] == "mean_sd":
                    cells = [format_mean_sd(cell) for cell in continuous]
                else:
                    decimals = median_iqr_decimals(continuous)
                    cells = [format_median_iqr(cell, decimals) for cell in continuous]
            rows.append([row["label"], *cells])
        tables[unit] = rows
    return tables


@pytest.mark.slow
def test_every_printed_estimate_appears_in_html_and_pdf(rendered):
    folder = rendered[0]
    results = json.loads((folder / "results.json").read_text())
    html, pdf = html_text(folder), pdf_text(folder)
    for value in printed_values(results):
        assert value in html, value
        assert value in pdf, value


@pytest.mark.slow
def test_every_characteristics_row_appears_in_html_and_pdf(rendered):
    """Each row of Tables 1 and 2 (label and formatted cells, in order) is a row of the HTML and a line of the PDF."""
    folder = rendered[0]
    results = json.loads((folder / "results.json").read_text())
    html, pdf = html_text(folder), pdf_text(folder)
    for rows in characteristics_rows(results).values():
        for row in rows:
            line = plain(" ".join(row))
            assert line in html, line
            assert line in pdf, line


@pytest.mark.slow
def test_appendix_records_the_run(rendered):
    folder = rendered[0]
    results = json.loads((folder / "results.json").read_text())
    html = html_text(folder)
    provenance = results["provenance"]
    # Paths relative to the working directory, and no output folder: the report is the same wherever it is written.
    assert provenance["command"] == f"ketareport render {os.path.relpath(DEMO)}"
    assert str(folder) not in (folder / "ketamine-report.html").read_text()
    assert provenance["command"] in html
    assert provenance["generated_at"] in html and "SOURCE_DATE_EPOCH" in html
    for file in provenance["dataset"]["files"]:
        assert file["sha256"] in html
    assert provenance["config_sha256"] in html
    for name, version in provenance["packages"].items():
        assert f"{name} {version}" in html
    assert "R cross-check was not run" in html and "--verify" in html


@pytest.mark.slow
def test_demo_abstract_reads_like_the_published_one(rendered):
    html = html_text(rendered[0])
    for sentence in [
        "We identified 49 patients undergoing 369 outpatient ketamine infusions.",
        "We excluded 36 infusions because of missing data.",
        "18 (37%) had a diagnosis of complex regional pain syndrome (CRPS)",
        "All patients were pretreated with midazolam and ondansetron.",
    ]:
        assert sentence in html
    # The paper's sentence, with the interval every comparison now carries.
    assert re.search(r"The difference of 2\.1 cm between groups was statistically significant "
                     r"\(SE 0\.64, 95% CI [0-9.]+ to [0-9.]+, P = 0\.002\)\.", html)
    assert re.search(r"All patients reported a significant reduction in VAS score of 5\.9 cm \(standard error \[SE\] 0\.35,", html)


class _Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.references, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.references += [value for name, value in attrs if name in ("src", "href", "srcset", "poster", "data", "xlink:href") and value]


@pytest.mark.slow
def test_html_loads_no_external_resource(rendered):
    html = (rendered[0] / "ketamine-report.html").read_text()
    parser = _Resources()
    parser.feed(html)
    assert "link" not in parser.tags and "script" not in parser.tags and "iframe" not in parser.tags
    assert all(ref.startswith(("data:", "#")) for ref in parser.references), parser.references
    for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", html):
        assert url.startswith(("data:", "#")), url
    assert "@import" not in html
    # Semantics a screen reader needs: captions, header cells, alt text for figures.
    assert html.count("<caption>") >= 5 and 'scope="col"' in html and html.count('role="img" aria-label=') == 3


@pytest.mark.slow
def test_no_identifiers_in_the_report(rendered):
    html = (rendered[0] / "ketamine-report.html").read_text()
    results = json.loads((rendered[0] / "results.json").read_text())
    assert results["cohort"]["excluded_infusion_ids"]
    for identifier in results["cohort"]["excluded_infusion_ids"] + ["P001", "P049"]:
        assert identifier not in html


@pytest.mark.slow
def test_two_renders_into_different_folders_are_byte_identical(rendered):
    first, second = rendered
    for name in ("ketamine-report.html", "ketamine-report.pdf", "figures/figure-2-vas.svg", "results.rds", "results.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


@pytest.mark.slow
def test_pdf_embeds_every_font_and_carries_metadata(rendered):
    from pypdf import PdfReader

    reader = PdfReader(rendered[0] / "ketamine-report.pdf")
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = (font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font)["/FontDescriptor"]
            fonts[font["/BaseFont"]] = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert fonts and all(fonts.values()), fonts
    # Only the shipped faces: Pagella for text, Cursor for code; nothing found by fontconfig.
    assert all(re.fullmatch(r"/[A-Z]{6}\+(Pagella|Cursor)(-\w+)?", name) for name in fonts), fonts
    assert reader.metadata.title.startswith("Efficacy of outpatient ketamine infusions")
    assert "Demo Author A" in reader.metadata.author
    assert len(reader.pages) >= 5
    assert "page 2 of" in reader.pages[1].extract_text()  # numbered pages


@pytest.mark.slow
def test_page_size_follows_the_config(tmp_path):
    from pypdf import PdfReader

    dataset = tmp_path / "demo"
    shutil.copytree(DEMO, dataset)
    with (dataset / "study.yml").open("a") as handle:
        handle.write("report: {page_size: Letter, name: letter-report}\n")
    render_out = tmp_path / "out"
    CliRunner().invoke(cli.main, ["render", str(dataset), "--out", str(render_out)], catch_exceptions=False)
    box = PdfReader(render_out / "letter-report.pdf").pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


def test_a_missing_value_fails_the_render():
    from jinja2 import UndefinedError

    from ketareport.render import template_environment

    with pytest.raises(UndefinedError):
        template_environment().get_template("_title.html").render(c=object())


@pytest.mark.browser
def test_browser_makes_no_network_request(rendered, chromium, tmp_path):
    from playwright.sync_api import sync_playwright

    requests = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        page = browser.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.goto((rendered[0] / "ketamine-report.html").as_uri())
        page.wait_for_load_state("networkidle")
        fonts_loaded = page.evaluate("document.fonts.check('12px Pagella')")
        page.screenshot(path=str(tmp_path / "page.png"), full_page=False)
        browser.close()
    assert [url for url in requests if not url.startswith(("file:", "data:"))] == []
    assert fonts_loaded


@pytest.mark.slow
def test_font_subsets_are_cached_and_identical(tmp_path, monkeypatch):
    from ketareport import render as render_module

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fresh = render_module._font_subset("texgyrepagella-regular.otf")
    cached_files = list((tmp_path / "ketareport" / "fonts").glob("*.otf"))
    assert len(cached_files) == 1 and cached_files[0].read_bytes() == fresh
    assert render_module._font_subset("texgyrepagella-regular.otf") == fresh
    assert render_module._subset((render_module.FONTS / "texgyrepagella-regular.otf").read_bytes()) == fresh


@pytest.mark.slow
def test_a_disagreeing_cross_check_is_shown_and_exits_3(tmp_path, monkeypatch):
    """render --verify: when R disagrees the report is still published, shows the disagreement, and the exit status is 3."""
    from ketareport import verify

    def disagreeing(run, work_dir):
        rows = [
            verify.VerificationRow("vas_reduction/overall/estimate", run.results.vas.overall.estimate,
                                   run.results.vas.overall.estimate, 0.0, verify.CLOSED_FORM_TOLERANCE, True),
            verify.VerificationRow("vas_reduction/difference/p_value", run.results.vas.difference.p_value,
                                   run.results.vas.difference.p_value * 2, run.results.vas.difference.p_value,
                                   verify.CLOSED_FORM_TOLERANCE, False),
        ]
        return verify.VerificationReport(rows, "R version 0.0.0 (stand-in)", {"lme4": "0.0"})

    monkeypatch.setattr(verify, "cross_check", disagreeing)
    out = render(tmp_path / "out", "--verify", exit_code=3)
    html = html_text(out)
    assert "1 of 2 quantities agree within tolerance; 1 DISAGREE" in html
    # Grouped by analysis: a section row per analysis, each quantity labelled term/column within it.
    assert "vas_reduction" in html and "difference/p_value" in html and "R version 0.0.0 (stand-in)" in html
    assert 'class="verification-fail"' in (out / "ketamine-report.html").read_text()
    assert (out / "ketamine-report.pdf").is_file() and (out / "results.json").is_file()
    assert "vas_reduction/difference/p_value" in (out / "verification.csv").read_text()


@pytest.mark.slow
def test_font_subsets_do_not_depend_on_the_clock(monkeypatch):
    """fontTools stamps a saved font with the current time unless told not to; a subset made a second later must be the same bytes."""
    from fontTools.ttLib.tables import _h_e_a_d

    from ketareport import render as render_module

    source = (render_module.FONTS / "texgyrepagella-regular.otf").read_bytes()
    subsets = []
    for now in (3_000_000_000, 3_000_000_001):
        monkeypatch.setattr(_h_e_a_d, "timestampNow", lambda now=now: now)
        subsets.append(render_module._subset(source))
    assert subsets[0] == subsets[1]


@pytest.mark.slow
def test_every_printed_character_is_in_the_embedded_font(rendered):
    """Nothing the report prints falls back to a system font: each character is in Pagella and in its subset."""
    from fontTools.ttLib import TTFont

    from ketareport.render import FONT_UNICODES, FONTS

    covered = set(FONT_UNICODES) & set(TTFont(FONTS / "texgyrepagella-regular.otf").getBestCmap())
    html = (rendered[0] / "ketamine-report.html").read_text()
    html = re.sub(r"<(style|svg)\b.*?</\1>", " ", html, flags=re.S)
    printed = set(re.sub(r"<[^>]+>|&\w+;|\s", "", html))
    assert {character for character in printed if ord(character) not in covered} == set()
