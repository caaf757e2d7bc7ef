"""The pieces the reproducible, tagged PDF is built from: the recorded command, inline figures, the watermark."""

from __future__ import annotations

import base64
import os
import re

import pytest

from ketareport.provenance import recorded_command
from ketareport.render import WATERMARK_COLOUR, draft_watermark, svg_inline


def test_the_recorded_command_leaves_out_the_output_folder_and_makes_paths_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dataset, config = tmp_path / "data" / "demo", tmp_path / "conf" / "study.yml"
    assert recorded_command(
        ["ketareport", "render", str(dataset), "--out", "/elsewhere/report", f"--config={config}", "--verify"]
    ) == "ketareport render data/demo --config=conf/study.yml --verify"
    assert recorded_command(["ketareport", "render", "data/demo", "--out=reports/x"]) == "ketareport render data/demo"
    outside = os.path.relpath("/srv/study", tmp_path)
    assert recorded_command(["ketareport", "render", "/srv/study"]) == f"ketareport render {outside}"


def test_the_recorded_command_never_holds_a_database_password():
    assert recorded_command(["ketareport", "render", "postgresql://analyst:s3cret@warehouse/research", "--verify"]) \
        == "ketareport render 'postgresql://analyst:***@warehouse/research' --verify"
    assert recorded_command(["ketareport", "render", "postgresql://analyst@/research?host=/run/pg&password=s3cret"]) \
        == "ketareport render 'postgresql://analyst@/research?host=/run/pg&password=***'"
    assert recorded_command(["ketareport", "render", "duckdb:///srv/study.duckdb"]) \
        == "ketareport render duckdb:///srv/study.duckdb"


SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">\n'
    '<defs><path id="glyph-a" d="M0 0"/><clipPath id="clip1"><rect width="5" height="5"/></clipPath></defs>\n'
    '<use xlink:href="#glyph-a"/><g clip-path="url(#clip1)" id="axes_1"/></svg>'
)


def test_an_inline_figure_gets_its_title_and_ids_of_its_own():
    inlined = svg_inline(SVG, "fig-vas", "Dot plot: CRPS 7.2 & other 5.1 <cm>")
    assert re.match(r'<svg [^>]*><title>Dot plot: CRPS 7.2 &amp; other 5.1 &lt;cm&gt;</title>', inlined)
    assert set(re.findall(r'\bid="([^"]+)"', inlined)) == {"fig-vas-glyph-a", "fig-vas-clip1", "fig-vas-axes_1"}
    assert 'xlink:href="#fig-vas-glyph-a"' in inlined and "url(#fig-vas-clip1)" in inlined


def test_inline_figures_must_be_svg():
    with pytest.raises(ValueError, match="not an SVG"):
        svg_inline("<p>no figure</p>", "fig", "alt")


def test_the_watermark_is_outlines_in_its_grey_not_text():
    uri = draft_watermark()
    assert uri.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(uri.split(",", 1)[1]).decode("ascii")
    grey = ",".join(str(round(channel * 255)) for channel in WATERMARK_COLOUR)
    assert f'fill="rgb({grey})"' in svg and "<text" not in svg and 'rotate(-' in svg
    draft_watermark.cache_clear()
    assert draft_watermark() == uri  # the same bytes every time: renders stay byte-identical


LIBRARIES_NOT_FOUND_BY_SONAME = """
import cffi, ctypes.util, sys
lookup = ctypes.util.find_library
dlopen = cffi.FFI.dlopen
def failing_while_the_lookup_is_skipped(self, name, flags=0):
    if ctypes.util.find_library is not lookup:
        raise OSError(f"cannot load {name}")
    return dlopen(self, name, flags)
cffi.FFI.dlopen = failing_while_the_lookup_is_skipped
from ketareport.render import import_weasyprint
weasyprint = import_weasyprint()
assert ctypes.util.find_library is lookup
print(weasyprint.HTML(string="<p>x</p>").render().pages[0].width > 0)
"""


@pytest.mark.slow  # a new Python importing WeasyPrint: seconds
def test_weasyprint_is_imported_the_ordinary_way_when_the_fast_way_finds_no_library():
    """A system whose libraries the dynamic loader does not find by their sonames gets the ordinary import
    (ctypes' lookup), and WeasyPrint's installation advice from the failed first attempt is not printed."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", LIBRARIES_NOT_FOUND_BY_SONAME], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "True\n"
