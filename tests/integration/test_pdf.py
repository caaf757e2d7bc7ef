"""The review-board PDF: PDF/A-3a identification, tagged structure, associated files, page numbering, text order.

What these checks cover, and which PDF/A and PDF/UA rules they leave to a validator, is in docs/pdf.md.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree

import pytest
from click.testing import CliRunner

from ketareport import cli

from ..conftest import DEMO, _missing_tool

pytestmark = pytest.mark.slow

EPOCH = "1330560000"
REPORT = "ketamine-report"
NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
}


def stand_in_cross_check(run, work_dir):
    """R's side replaced by Python's own numbers: these tests are about the PDF, not about R."""
    from ketareport import verify

    estimate = run.results.vas.overall.estimate
    rows = [verify.VerificationRow("vas_reduction/overall/estimate", estimate, estimate, 0.0,
                                   verify.CLOSED_FORM_TOLERANCE, True)]
    return verify.VerificationReport(rows, "R version 0.0.0 (stand-in)", {"lme4": "0.0"})


def render(out, dataset=DEMO, *extra):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        result = CliRunner().invoke(cli.main, ["render", str(dataset), "--out", str(out), *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


FINAL_CONTROL = {"status": "final", "version": "2.1", "date": "2012-01-31", "data_lock": "2011-12-15"}
PROTOCOL = "IRB 2010-123"


@pytest.fixture(scope="module")
def final_report(tmp_path_factory):
    """The demo with every document-control field set and report.status final: the folder and the opened PDF."""
    import pikepdf
    import yaml

    root = tmp_path_factory.mktemp("final")
    dataset = root / "demo"
    shutil.copytree(DEMO, dataset)
    config = yaml.safe_load((dataset / "study.yml").read_text())
    config["study"]["protocol"] = PROTOCOL
    config["report"] = FINAL_CONTROL
    (dataset / "study.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    out = render(root / "report", dataset)
    with pikepdf.open(out / f"{REPORT}.pdf") as pdf:
        yield out, pdf


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The demo rendered with --verify (R stood in for): the folder and the opened PDF."""
    import pikepdf

    from ketareport import verify

    out = tmp_path_factory.mktemp("pdf") / "report"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        patch.setattr(verify, "cross_check", stand_in_cross_check)
        result = CliRunner().invoke(cli.main, ["render", str(DEMO), "--out", str(out), "--verify"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with pikepdf.open(out / f"{REPORT}.pdf") as pdf:
        yield out, pdf


def xmp(pdf) -> ElementTree.Element:
    return ElementTree.fromstring(pdf.Root.Metadata.read_bytes().decode("utf-8").split("?>", 1)[1].rsplit("<?xpacket", 1)[0])


def xmp_value(tree: ElementTree.Element, path: str) -> list[str]:
    """Attribute values (``prefix:name`` on an rdf:Description) or the texts of a property's rdf:li items."""
    prefix, name = path.split(":")
    attribute = f"{{{NS[prefix]}}}{name}"
    values = [d.attrib[attribute] for d in tree.iter(f"{{{NS['rdf']}}}Description") if attribute in d.attrib]
    for element in tree.iter(attribute):
        items = list(element.iter(f"{{{NS['rdf']}}}li"))
        values += [item.text for item in items] if items else [element.text]
    return values


def structure_elements(pdf):
    """The structure elements in document order: (type, element)."""
    import pikepdf

    def walk(element):
        if not isinstance(element, pikepdf.Dictionary) or "/S" not in element:
            return
        yield str(element.S), element
        kids = element.get("/K")
        for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]):
            yield from walk(kid)

    for top in pdf.Root.StructTreeRoot.K:
        yield from walk(top)


def children(element, kind: str):
    import pikepdf

    kids = element.get("/K")
    return [kid for kid in (kids if isinstance(kids, pikepdf.Array) else [kids])
            if isinstance(kid, pikepdf.Dictionary) and kid.get("/S") == kind]


def html_of(folder) -> str:
    return (folder / f"{REPORT}.html").read_text(encoding="utf-8")


def test_xmp_identifies_pdf_a_3a_and_describes_the_report(report):
    folder, pdf = report
    tree = xmp(pdf)
    assert xmp_value(tree, "pdfaid:part") == ["3"] and xmp_value(tree, "pdfaid:conformance") == ["A"]
    study = json.loads((folder / "results.json").read_text())["config"]["study"]
    assert xmp_value(tree, "dc:title") == [study["title"]] == [str(pdf.docinfo["/Title"])]
    assert xmp_value(tree, "dc:creator") == [", ".join(a["name"] for a in study["authors"])] == [str(pdf.docinfo["/Author"])]
    assert xmp_value(tree, "pdf:Keywords") == [", ".join(study["keywords"])] == [str(pdf.docinfo["/Keywords"])]
    subject = xmp_value(tree, "dc:description")
    assert subject == [str(pdf.docinfo["/Subject"])] and subject[0].startswith("We evaluated whether")
    assert xmp_value(tree, "dc:language") == ["en"] == [str(pdf.Root.Lang)]


def test_the_pdf_is_marked_tagged_and_identified(report):
    _, pdf = report
    assert pdf.Root.MarkInfo.Marked is True and "/StructTreeRoot" in pdf.Root
    assert pdf.Root.ViewerPreferences.DisplayDocTitle is True  # viewers show the title, not the file name
    assert len(pdf.trailer.ID) == 2  # the file identifier PDF/A requires
    assert pdf.pdf_version == "1.7"


def test_output_intent_carries_an_icc_profile(report):
    _, pdf = report
    (intent,) = pdf.Root.OutputIntents
    assert intent.S == "/GTS_PDFA1"
    profile = intent.DestOutputProfile
    assert profile.N == 3 and profile.read_bytes()[36:40] == b"acsp"  # the ICC signature; 3 components: RGB


def test_every_font_is_embedded(report):
    import pikepdf

    _, pdf = report
    fonts = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font"]
    assert fonts
    for font in fonts:
        descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
        descriptor = descendant.FontDescriptor
        assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font.BaseFont


def test_headings_are_tagged_in_order(report):
    folder, pdf = report
    levels = [int(kind[2]) for kind, _ in structure_elements(pdf) if re.fullmatch(r"/H[1-6]", kind)]
    html_levels = [int(level) for level in re.findall(r"<h([1-6])\b", html_of(folder))]
    assert levels == html_levels
    assert levels[0] == 1 and levels.count(1) == 1 and max(levels) == 3
    assert all(following <= previous + 1 for previous, following in zip(levels, levels[1:])), levels


def test_tables_have_header_cells_that_the_data_cells_point_to(report):
    _, pdf = report
    tables = [element for kind, element in structure_elements(pdf) if kind == "/Table"]
    assert len(tables) >= 8
    for table in tables:
        (head,) = children(table, "/THead") or [None]
        body_rows = [row for body in children(table, "/TBody") for row in children(body, "/TR")]
        if head is not None:
            (header_row,) = children(head, "/TR")
            assert children(header_row, "/TH") and not children(header_row, "/TD")
        for row in body_rows:
            for cell in children(row, "/TD"):
                assert len(cell.A.Headers) >= 1  # each data cell names its row and column headers
    assert any(children(table, "/Caption") for table in tables)


def test_figures_carry_their_alt_text(report):
    folder, pdf = report
    alts = [str(element.Alt) for kind, element in structure_elements(pdf) if kind == "/Figure"]
    expected = re.findall(r'<div role="img" aria-label="([^"]+)">', html_of(folder))
    assert len(alts) == len(expected) == 3
    assert alts == [text.replace("&amp;", "&") for text in expected]


def test_the_html_has_unique_ids(report):
    folder, _ = report
    ids = re.findall(r'\bid="([^"]+)"', html_of(folder))
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_embedded_files_are_the_written_files(report):
    folder, pdf = report
    relationships = {str(spec.UF): str(spec.AFRelationship) for spec in pdf.Root.AF}
    assert relationships == {"estimates.csv": "/Data", "results.json": "/Data", "verification.csv": "/Data",
                             "study-used.yml": "/Source"}
    assert len(pdf.Root.AF) == len(relationships)  # each associated file listed once
    assert set(pdf.attachments) == set(relationships)
    for name, attachment in pdf.attachments.items():
        assert attachment.get_file().read_bytes() == (folder / name).read_bytes(), name
    media_types = {name: str(attachment.obj.EF.F.Subtype) for name, attachment in pdf.attachments.items()}
    assert media_types == {"estimates.csv": "/text/csv", "results.json": "/application/json",
                           "verification.csv": "/text/csv", "study-used.yml": "/application/yaml"}
    from ketareport.config import load_config

    used, demo = load_config(folder / "study-used.yml"), load_config(DEMO / "study.yml")
    assert used.as_study_yml() == demo.as_study_yml()  # the configuration used, as a study.yml that reads back


def test_pages_are_labelled_and_numbered_page_x_of_y(report):
    folder, pdf = report
    count = len(pdf.pages)
    assert [page.label for page in pdf.pages] == [str(number) for number in range(1, count + 1)]
    for number, text in enumerate(pdftotext_pages(folder / f"{REPORT}.pdf"), start=1):
        assert f"page {number} of {count}" in text


def pdftotext(path, *options: str) -> str:
    if shutil.which("pdftotext") is None:
        _missing_tool("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", *options, str(path), "-"], check=True, capture_output=True, text=True).stdout


def pdftotext_pages(path) -> list[str]:
    return pdftotext(path).split("\f")[:-1]


def plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u2060", ""))


def test_extracted_text_follows_the_reading_order(report):
    """pdftotext -layout (the page as read: top to bottom, a table row on a line): sections in the manuscript's
    order, and each table row's cells in sequence. (Without -layout, poppler's block detection reads a table
    column by column; the structure tree, which assistive technology reads, is checked above.)"""
    folder, _ = report
    text = plain(pdftotext(folder / f"{REPORT}.pdf", "-layout"))
    headings = ["ABSTRACT", "Objective.", "Conclusions.", "Introduction", "Methods", "Results", "Conclusions",
                "Appendix: reproducibility"]
    positions = []
    start = 0
    for heading in headings:
        start = text.index(heading, start)
        positions.append(start)
    assert positions == sorted(positions)
    results = json.loads((folder / "results.json").read_text())
    from ketareport.present.formats import format_interval, format_mean, format_p, format_se

    overall = results["vas"]["overall"]
    row = (f"All patients {results['cohort']['n_patients_analyzed']} {format_mean(overall['estimate'])} "
           f"{format_se(overall['std_error'])} {format_interval(overall['conf_low'], overall['conf_high'])} "
           f"{format_p(overall['p_value'])}")
    assert plain(row) in text
    from .test_render import characteristics_rows

    for rows in characteristics_rows(results).values():
        for cells in rows:
            assert plain(" ".join(cells)) in text, cells


def watermarked_pages(pdf) -> list[bool]:
    """Per page: does it draw, as an artifact, a form that fills with the watermark's grey?"""
    import pikepdf

    from ketareport.render import WATERMARK_COLOUR

    grey = [round(channel * 255) for channel in WATERMARK_COLOUR]

    def fills_grey(form) -> bool:
        for operands, operator in pikepdf.parse_content_stream(form):
            if str(operator) == "rg" and [round(float(value) * 255) for value in operands] == grey:
                return True
            if str(operator) == "Do" and fills_grey(form.Resources.XObject[operands[0]]):
                return True
        return False

    pages = []
    for page in pdf.pages:
        marked, found = [], False
        for operands, operator in pikepdf.parse_content_stream(page):
            if str(operator) in ("BMC", "BDC"):
                marked.append(str(operands[0]))
            elif str(operator) == "EMC":
                marked.pop()
            elif str(operator) == "Do" and "/Artifact" in marked:
                found = found or fills_grey(page.Resources.XObject[operands[0]])
        pages.append(found)
    return pages


def control_block(folder) -> str:
    html = html_of(folder)
    return plain(re.sub(r"<[^>]+>", " ", html[html.index('<div class="document-control">'):html.index("</header>")])).strip()


def test_a_draft_is_watermarked_on_every_page_and_says_so(report):
    folder, pdf = report
    assert all(watermarked_pages(pdf))
    results = json.loads((folder / "results.json").read_text())
    digest = results["provenance"]["dataset"]["digest"]
    block = control_block(folder)
    # No report.date: the report date is SOURCE_DATE_EPOCH's (2012-03-01).
    assert block.startswith("Status Draft Version not stated Report date 1 March 2012 Data lock not stated")
    assert f"Data digest {digest[:12]}" in block
    for text in pdftotext_pages(folder / f"{REPORT}.pdf"):
        assert f"Draft · version not stated · data {digest[:12]}" in plain(text)


def test_a_final_report_has_no_watermark_and_prints_its_document_control(final_report):
    folder, pdf = final_report
    assert not any(watermarked_pages(pdf))
    results = json.loads((folder / "results.json").read_text())
    digest = results["provenance"]["dataset"]["digest"][:12]
    assert control_block(folder) == (
        f"Status Final Version 2.1 Report date 31 January 2012 Data lock 15 December 2011 Protocol {PROTOCOL} "
        f"Data digest {digest}"
    )
    pages = pdftotext_pages(folder / f"{REPORT}.pdf")
    title = results["config"]["study"]["title"]
    for number, text in enumerate(pages, start=1):
        text = plain(text)
        assert f"Final · version 2.1 · data {digest}" in text and f"page {number} of {len(pages)}" in text
        assert title.split(":")[0][:40] in text  # the short title


def test_the_data_digest_is_the_digest_of_the_sha256sum_listing(report):
    """As documented: ``sha256sum patients.csv infusions.csv | sha256sum`` in the dataset folder."""
    import hashlib

    folder, _ = report
    dataset = json.loads((folder / "results.json").read_text())["provenance"]["dataset"]
    listing = "".join(
        f"{hashlib.sha256((DEMO / name).read_bytes()).hexdigest()}  {name}\n" for name in ("patients.csv", "infusions.csv")
    )
    assert dataset["digest"] == hashlib.sha256(listing.encode()).hexdigest()


def test_the_appendix_lists_the_configuration_as_options_not_yaml(report):
    folder, _ = report
    html = html_of(folder)
    appendix = html[html.index('id="appendix"'):]
    assert "<pre class=\"config\"" not in appendix
    assert '<tr><th scope="row">relief.thresholds[1].days</th><td>7</td></tr>' in appendix
    assert '<tr class="section"><th scope="rowgroup" colspan="2">analysis</th></tr>' in appendix
