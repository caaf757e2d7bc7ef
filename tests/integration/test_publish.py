"""``ketareport publish`` and ``ketareport diff``: the site, its versions, the lock, and the diff's numbers.

Three versions of the demo whose data change between versions are rendered
once for the module; the site tests publish those render folders (a copy,
seconds), so the slow part is the three renders.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ketareport.diff import compare, diff_folders, load_values
from ketareport.publish import read_versions

from ..conftest import DEMO

EPOCH = "1330560000"
SUPPRESS_BELOW = "5"
ANALYSIS_COLUMNS = ["ketamine_dose_mg", "infusion_duration_min", "vas_pre", "vas_post"]


def ketareport(*args, cwd=None, env_epoch=True):
    import os

    env = dict(os.environ)
    if env_epoch:
        env["SOURCE_DATE_EPOCH"] = EPOCH
    return subprocess.run([sys.executable, "-m", "ketareport", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env)


def demo_variant(folder: Path, drop_last_patients: int = 0, lower_vas_post_patients: int = 0) -> Path:
    """The demo dataset, less its last patients, and with the first patients' VAS after infusion 1 cm lower (not below 0)."""
    shutil.copytree(DEMO, folder)
    (folder / "demo.RData").unlink(missing_ok=True)
    patients = pd.read_csv(folder / "patients.csv", dtype=str, keep_default_na=False)
    infusions = pd.read_csv(folder / "infusions.csv", dtype=str, keep_default_na=False)
    if drop_last_patients:
        dropped = set(patients["patient_id"].iloc[-drop_last_patients:])
        patients = patients[~patients["patient_id"].isin(dropped)]
        infusions = infusions[~infusions["patient_id"].isin(dropped)]
    if lower_vas_post_patients:
        rows = infusions["patient_id"].isin(patients["patient_id"].iloc[:lower_vas_post_patients]) & (infusions["vas_post"] != "")
        infusions.loc[rows, "vas_post"] = [f"{max(0.0, float(value) - 1):g}" for value in infusions.loc[rows, "vas_post"]]
    patients.to_csv(folder / "patients.csv", index=False)
    infusions.to_csv(folder / "infusions.csv", index=False)
    return folder


def independent_summary(dataset: Path) -> dict[str, float]:
    """Patients and the mean of the patients' mean VAS reductions, computed here from the CSV files alone."""
    patients = pd.read_csv(dataset / "patients.csv")
    infusions = pd.read_csv(dataset / "infusions.csv")
    analysed = infusions.dropna(subset=ANALYSIS_COLUMNS)
    per_patient = (analysed["vas_pre"] - analysed["vas_post"]).groupby(analysed["patient_id"]).mean()
    return {"n_patients": len(patients), "n_infusions": len(infusions), "overall": float(per_patient.mean())}


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """Three datasets whose data change from one to the next, each rendered: [(dataset, render folder), ...]."""
    root = tmp_path_factory.mktemp("versions")
    first = demo_variant(root / "data-1")
    second = demo_variant(root / "data-2", drop_last_patients=3)
    third = demo_variant(root / "data-3", drop_last_patients=3, lower_vas_post_patients=10)
    rendered = []
    for number, dataset in enumerate((first, second, third), start=1):
        out = root / f"render-{number}"
        # The third version is rendered with small-cell protection: the site then holds a suppressed report too.
        completed = ketareport("render", dataset, "--out", out, *(["--suppress-below", SUPPRESS_BELOW] if number == 3 else []))
        assert completed.returncode == 0, completed.stderr
        rendered.append((dataset, out))
    return rendered


@pytest.fixture(scope="module")
def site(versions, tmp_path_factory):
    """A site with the three versions, published one after the other."""
    folder = tmp_path_factory.mktemp("site") / "site"
    for _, render in versions:
        completed = ketareport("publish", render, "--site", folder)
        assert completed.returncode == 0, completed.stderr
    return folder


def index_entries(site: Path) -> list[str]:
    """The version folders the index links to, in the order it lists them."""
    html = (site / "index.html").read_text()
    return re.findall(r'<h2 id="v\d+-heading"><a href="(v\d+)/index.html">', html)


@pytest.mark.slow
def test_the_index_lists_every_version_newest_first(site, versions):
    assert index_entries(site) == ["v3", "v2", "v1"]
    html = (site / "index.html").read_text()
    published = read_versions(site)
    assert [v.number for v in published] == [1, 2, 3]
    for version in published:
        assert version.data_digest[:16] in html
        assert version.changes in html
        assert f'href="{version.folder}/ketamine-report.html"' in html
        assert f'href="{version.folder}/ketamine-report.pdf"' in html
        assert f'href="{version.folder}/report-values.json"' in html
        assert (site / version.folder / "ketamine-report.pdf").is_file()
    # Versions 1 and 2 are not suppressed and publish the exact result files; version 3 is, and does not.
    for folder, exact in (("v1", True), ("v2", True), ("v3", False)):
        assert (f'href="{folder}/results.json"' in html) is exact
        assert (site / folder / "results.json").is_file() is exact and (site / folder / "results.rds").is_file() is exact
    assert published[2].suppress_below == int(SUPPRESS_BELOW)
    assert published[0].changes == "First published version."
    assert "patients 49 → 46" in published[1].changes
    assert 'href="v3/ketamine-report.html"' in (site / "latest.html").read_text()
    assert not list(site.glob(".incoming-*"))
    assert "<script" not in html and "http://" not in html and "https://" not in html


@pytest.mark.slow
def test_publishing_the_same_inputs_again_is_a_no_op(site, versions):
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    completed = ketareport("publish", versions[1][1], "--site", site)
    assert completed.returncode == 0, completed.stderr
    assert "already published as version 2 (same data and configuration): nothing written" in completed.stderr
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before
    # The dataset itself, analysed again here (not rendered), is the same version too.
    completed = ketareport("publish", versions[2][0], "--site", site, "--suppress-below", SUPPRESS_BELOW)
    assert "already published as version 3" in completed.stderr
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before


@pytest.mark.slow
def test_two_concurrent_publishes_leave_a_consistent_index(versions, tmp_path):
    for attempt in range(3):
        site = tmp_path / f"site-{attempt}"
        # Two different versions at once: both land, numbered 1 and 2, each listed once.
        processes = [subprocess.Popen([sys.executable, "-m", "ketareport", "publish", str(render), "--site", str(site)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for _, render in versions[:2]]
        outputs = [process.communicate() for process in processes]
        assert [process.returncode for process in processes] == [0, 0], outputs
        published = read_versions(site)
        assert [v.number for v in published] == [1, 2]
        assert {v.key for v in published} == {json.loads((site / f"v{n}" / "version.json").read_text())["key"] for n in (1, 2)}
        assert len({v.key for v in published}) == 2
        assert index_entries(site) == ["v2", "v1"]
        assert 'href="v2/ketamine-report.html"' in (site / "latest.html").read_text()
        assert not list(site.glob(".incoming-*"))
        # The second version's page compares it with the first, whichever finished first.
        assert "since version 1" in (site / "v2" / "index.html").read_text().lower()
    # The same inputs twice at once: one version, and the other publish says it is already there.
    site = tmp_path / "site-same"
    processes = [subprocess.Popen([sys.executable, "-m", "ketareport", "publish", str(versions[0][1]), "--site", str(site)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errors = [process.communicate()[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], errors
    assert [v.number for v in read_versions(site)] == [1]
    assert sum("already published as version 1" in error for error in errors) == 1
    assert index_entries(site) == ["v1"]


@pytest.mark.slow
def test_diff_of_result_folders_matches_an_independent_computation(versions):
    (old_data, old_render), (new_data, new_render) = versions[0], versions[1]
    old, new = independent_summary(old_data), independent_summary(new_data)
    source, changes = diff_folders(old_render, new_render)
    assert source == "results.json"
    by_quantity = {change.quantity: change for change in changes}
    patients = by_quantity["cohort / n_patients"]
    assert (patients.old, patients.new, patients.difference) == (old["n_patients"], new["n_patients"],
                                                                 new["n_patients"] - old["n_patients"])
    overall = by_quantity["vas_reduction / overall / estimate"]
    assert overall.old == pytest.approx(old["overall"], abs=1e-12)
    assert overall.new == pytest.approx(new["overall"], abs=1e-12)
    assert overall.difference == pytest.approx(new["overall"] - old["overall"], abs=1e-12)
    # Nothing unchanged is listed: the dataset's infusions count is listed only if it changed.
    assert ("cohort / n_infusions" in by_quantity) == (old["n_infusions"] != new["n_infusions"])
    assert all(change.old != change.new for change in changes)


@pytest.mark.slow
def test_diff_of_site_versions_compares_printed_values(site, versions):
    (old_data, _), (new_data, _) = versions[1], versions[2]
    old, new = independent_summary(old_data), independent_summary(new_data)
    changes = compare(load_values(site / "v2", "report-values.json"), load_values(site / "v3", "report-values.json"))
    by_quantity = {change.quantity: change for change in changes}
    assert "cohort / n_patients" not in by_quantity  # v3 changes VAS scores, not the patients
    overall = by_quantity["vas / overall / estimate"]
    assert (overall.old, overall.new) == (f"{old['overall']:.1f}", f"{new['overall']:.1f}")
    assert overall.difference == pytest.approx(round(new["overall"], 1) - round(old["overall"], 1), abs=1e-9)
    page = (site / "v3" / "index.html").read_text()
    assert "vas / overall / estimate" in page and 'class="table-scroll"' in page


@pytest.mark.slow
def test_diff_command_prints_the_table(site):
    completed = ketareport("diff", site / "v1", site / "v2")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].split() == ["Kind", "Quantity", "Old", "New", "Difference"]
    patients = next(line for line in lines if re.match(r"count\s+cohort / n_patients\s", line))
    assert patients.split()[-3:] == ["49", "46", "-3"]
    assert "patients 49 → 46" in lines[-1]


# ------------------------------------------------------------- in a browser --

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = (390, 1280)
MIN_FIGURE_TEXT_PX = 11


@pytest.fixture(scope="module")
def axe_script():
    from ..conftest import REPO, _missing_tool

    path = REPO / "node_modules" / "axe-core" / "axe.min.js"
    if not path.is_file():
        _missing_tool("axe-core is not installed (npm ci, as scripts/test.sh does in CI)")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def served_site(site):
    """The site served by `python -m http.server` on 127.0.0.1 (a free port)."""
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(site)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(timeout=10)


LINKS_JS = """() => Array.from(document.querySelectorAll('a[href], link[href], img[src], script[src], iframe[src]'))
    .map(e => e.href || e.src)"""
SCROLL_JS = "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
FIGURE_TEXT_JS = """() => Array.from(document.querySelectorAll('figure svg text')).map(t => {
    const m = t.getScreenCTM();
    return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
})"""


@pytest.mark.slow
@pytest.mark.browser
def test_the_served_site_in_a_browser(served_site, axe_script, chromium, tmp_path_factory):
    """Every page and link of the site: no 404, no request off the site, no axe violation, no sideways scroll."""
    from playwright.sync_api import sync_playwright

    shots = tmp_path_factory.mktemp("screenshots")
    requests: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        context = browser.new_context()
        context.on("request", lambda request: requests.append(request.url))
        # Anything off the site is recorded above and refused here, so the test never reaches the network.
        context.route(re.compile(r"^(?!" + re.escape(served_site) + r"|data:).*"), lambda route: route.abort())
        page = context.new_page()
        queue, seen, pages = [served_site + "index.html"], set(), []
        while queue:
            url = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            response = context.request.get(url)
            if response.status != 200:
                problems.append(f"{url}: HTTP {response.status}")
                continue
            if not response.headers.get("content-type", "").startswith("text/html"):
                continue
            pages.append(url)
            page.set_viewport_size({"width": WIDTHS[0], "height": 844})
            page.goto(url)
            page.wait_for_load_state("networkidle")
            links = [link.split("#")[0] for link in page.evaluate(LINKS_JS)]
            problems += [f"{url} links off the site: {link}" for link in links if not link.startswith(served_site)]
            queue += [link for link in links if link.startswith(served_site)]
            page.add_script_tag(content=axe_script)
            violations = page.evaluate(
                "async tags => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations"
                ".map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))",
                WCAG_TAGS,
            )
            problems += [f"{url} axe: {violation}" for violation in violations]
            name = url[len(served_site):].replace("/", "_") or "root"
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 844 if width < 1000 else 900})
                page.goto(url)
                scroll_width, inner_width = page.evaluate(SCROLL_JS)
                if scroll_width > inner_width:
                    problems.append(f"{url} at {width} px scrolls sideways ({scroll_width} > {inner_width})")
                page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=width > 1000)
            if url.endswith("ketamine-report.html"):
                page.set_viewport_size({"width": WIDTHS[0], "height": 844})
                page.goto(url)
                sizes = page.evaluate(FIGURE_TEXT_JS)
                if not sizes:
                    problems.append(f"{url}: the figures have no SVG text elements (text drawn as paths)")
                elif min(sizes) < MIN_FIGURE_TEXT_PX:
                    problems.append(f"{url}: figure text {min(sizes):.1f} px at {WIDTHS[0]} px wide (< {MIN_FIGURE_TEXT_PX})")
        browser.close()
    print(f"screenshots: {shots}")
    assert len([p for p in pages if p.endswith("ketamine-report.html")]) == 3
    assert {served_site + f"v{n}/index.html" for n in (1, 2, 3)} <= set(pages)
    assert [url for url in requests if not url.startswith((served_site, "data:"))] == []
    assert problems == []


# ------------------------------------------------------- nothing internal --

CANARY = "canary-4f1d92e7"


@pytest.mark.slow
def test_published_files_hold_no_path_user_or_host_name(tmp_path):
    """Publish from a folder whose path holds a canary string; no published file may contain it, in any form."""
    import getpass
    import gzip
    import os
    import socket
    import zlib

    root = tmp_path / CANARY / "work"
    dataset = demo_variant(root / "data")
    site = root / "site"
    # Run from inside the canary folder, with absolute paths, as a user on the server would.
    completed = ketareport("publish", dataset.resolve(), "--site", site.resolve(), cwd=root)
    assert completed.returncode == 0, completed.stderr
    needles = {CANARY.encode(), str(tmp_path).encode(), os.path.expanduser("~").encode() + b"/"}
    host = socket.gethostname()
    if len(host) >= 6:
        needles.add(host.encode())
    user = getpass.getuser()
    if len(user) >= 6:
        needles.add(user.encode())
    leaks = []
    for path in site.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        texts = [data]
        if path.suffix == ".rds":
            texts.append(gzip.decompress(data))
        if path.suffix == ".pdf":  # Flate streams: page text, metadata, the files the PDF carries
            for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, flags=re.S):
                try:
                    texts.append(zlib.decompress(match.group(1)))
                except zlib.error:
                    pass
        leaks += [f"{path.relative_to(site)}: {needle.decode()}" for needle in needles for text in texts if needle in text]
    assert leaks == []
