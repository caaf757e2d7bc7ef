"""``ketareport publish``: a static site of every published version of a report.

The site is a folder a file share or any static web server can serve: plain
HTML and one stylesheet, no JavaScript, only relative links::

    SITE/index.html        every version, newest first
    SITE/latest.html       points at the newest version
    SITE/site.css
    SITE/v1/, SITE/v2/ ... one folder per version, never overwritten:
        index.html             the version page (what changed since the previous version)
        <name>.html, <name>.pdf, figures/*.svg
        report-values.json     every printed value, as printed (suppressed when suppression is on)
        version.json           this version's entry of the index
        estimates.csv, results.json, results.rds   only when small-cell suppression is off

A version is identified by its *publication key*: the SHA-256 of the data
files' digests, the resolved study configuration and the suppression
threshold. Publishing the same key again changes nothing and says so.

Concurrency: the slow part (analysis, HTML, PDF) runs in a hidden staging
folder inside the site; then, holding an exclusive ``fcntl`` lock on
``SITE/.publish.lock``, the version number is chosen, the version folder is
renamed into place and the index pages are rewritten atomically from the
version folders themselves. Two publishes at once therefore leave an index
that lists every version exactly once.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from .diff import REPORT_VALUES_FILE, compare, diff_html, load_values, summary_line
from .errors import PublishError
from .output import StagedOutput, write_atomic
from .pipeline import RESULT_FILES

LOCK_FILE = ".publish.lock"
VERSION_FILE = "version.json"
VERSION_FOLDER = re.compile(r"^v(\d+)$")
SITE_TEMPLATES = "site"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PublishedVersion:
    """One entry of the site's index (stored as ``vN/version.json``)."""

    number: int
    key: str
    title: str
    report_version: str | None
    """``report.version`` of the study configuration, when it sets one."""
    status: str
    """``report.status`` of the study configuration: draft or final."""
    report_date: str
    data_digest: str
    published_at: str
    report_html: str
    report_pdf: str
    result_files: list[str]
    changes: str
    """One line: what changed since the previous version."""
    suppress_below: int | None

    @property
    def folder(self) -> str:
        return f"v{self.number}"

    @property
    def suppression(self) -> str:
        """How small cells were treated, in words."""
        if not self.suppress_below:
            return "not suppressed"
        files = ("the exact result files are published too (report.publish_results)" if "results.json" in self.result_files
                 else "the exact result files are not published")
        return (f"counts from 1 to {self.suppress_below - 1} print as “<{self.suppress_below}” and their percentages "
                f"are hidden (docs/suppression.md); {files}")


@dataclass(frozen=True)
class PublishOutcome:
    version: PublishedVersion
    created: bool
    """False when the same inputs and configuration were already published (nothing written)."""


# --------------------------------------------------------------- identity --

def publication_key(document: dict[str, Any], suppress_below: int | None) -> str:
    """SHA-256 of what a version is made of: the data files' digests, the resolved configuration, the threshold.

    File names enter without their folder and the configuration without its
    path, so the same data published from another folder is the same version.
    """
    config = {key: value for key, value in document["config"].items() if key != "source"}
    identity = {
        "data": sorted((Path(f["path"]).name, f["sha256"]) for f in document["provenance"]["dataset"]["files"]),
        "config": config,
        "suppress_below": suppress_below,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


def data_digest(document: dict[str, Any]) -> str:
    """The data digest the report itself prints (``provenance.dataset.digest``: SHA-256 of the data files'
    ``sha256sum`` listing), so that the index and the report's title page show the same number."""
    return document["provenance"]["dataset"]["digest"]


# ------------------------------------------------------------------- site --

def read_versions(site: Path) -> list[PublishedVersion]:
    """The site's versions, oldest first, read from their folders (the index is made from these)."""
    versions = []
    for folder in Path(site).iterdir() if Path(site).is_dir() else []:
        match = VERSION_FOLDER.match(folder.name)
        if match and (folder / VERSION_FILE).is_file():
            versions.append(PublishedVersion(**json.loads((folder / VERSION_FILE).read_text(encoding="utf-8"))))
    return sorted(versions, key=lambda version: version.number)


@contextmanager
def site_lock(site: Path) -> Iterator[None]:
    """Hold the site's exclusive lock (blocks until another publish has finished)."""
    with open(Path(site) / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _readable_by_all(path: Path, mode: int) -> None:
    """Give ``path`` the permissions a served file needs (mkdtemp and mkstemp make them private), less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, mode & ~umask)


def _write_page(path: Path, text: str | bytes) -> None:
    write_atomic(path, text)
    _readable_by_all(path, 0o666)


def _template(name: str):
    from .render import template_environment

    return template_environment().get_template(f"{SITE_TEMPLATES}/{name}")


def write_site_pages(site: Path, versions: list[PublishedVersion]) -> None:
    """Rewrite index.html, latest.html and site.css, each atomically (call with the lock held)."""
    from .render import TEMPLATES

    newest_first = list(reversed(versions))
    _write_page(site / "site.css", (TEMPLATES / SITE_TEMPLATES / "site.css").read_bytes())
    title = newest_first[0].title if newest_first else "Reports"
    count_line = f"{len(versions)} published version{'' if len(versions) == 1 else 's'}, newest first."
    _write_page(site / "index.html", _template("index.html").render(title=title, count_line=count_line, versions=newest_first))
    _write_page(site / "latest.html", _template("latest.html").render(title=title, latest=newest_first[0]))


# ---------------------------------------------------------------- publish --

def publish(
    source: Path,
    site: Path,
    *,
    config_path: Path | None = None,
    suppress_below: int | None = None,
    command: list[str] | None = None,
    progress: Progress = lambda message: None,
) -> PublishOutcome:
    """Publish a dataset (rendered here) or an existing render folder as the site's next version.

    Returns the new version, or the existing one (``created`` False) when the
    same data, configuration and suppression threshold are already published.
    """
    source, site = Path(source), Path(site)
    site.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=site))
    try:
        if is_render_folder(source):
            document = json.loads((source / "results.json").read_text(encoding="utf-8"))
            threshold = _render_folder_threshold(document, suppress_below)
            key = publication_key(document, threshold)
            existing = _published(site, key)
            if existing is not None:
                return PublishOutcome(existing, created=False)
            _copy_render_folder(source, staging, document, threshold)
        else:
            from .pipeline import run_analysis
            from .present.suppress import with_threshold

            run = run_analysis(source, config_path, command=command, progress=progress, report=True)
            run = with_threshold(run, suppress_below)
            threshold = _threshold(run.config)
            document = run.document()
            key = publication_key(document, threshold)
            existing = _published(site, key)
            if existing is not None:
                return PublishOutcome(existing, created=False)
            _render_into(run, staging, threshold, progress)
        with site_lock(site):
            versions = read_versions(site)
            existing = next((version for version in versions if version.key == key), None)
            if existing is not None:  # another publish of the same inputs finished while this one rendered
                return PublishOutcome(existing, created=False)
            previous = versions[-1] if versions else None
            version = _finish_version(staging, site, document, key, threshold, previous,
                                      number=previous.number + 1 if previous else 1)
            _readable_by_all(staging, 0o777)
            staging.rename(site / version.folder)  # a new name: never replaces a version
            write_site_pages(site, [*versions, version])
        progress(f"published {version.folder}: {version.changes}")
        return PublishOutcome(version, created=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def is_render_folder(path: Path) -> bool:
    """A folder ``ketareport render`` wrote (results.json beside the report), as opposed to a dataset."""
    return Path(path).is_dir() and (Path(path) / "results.json").is_file()


def _published(site: Path, key: str) -> PublishedVersion | None:
    return next((version for version in read_versions(site) if version.key == key), None)


def _threshold(config) -> int | None:
    return config.report.suppress_below


def _render_folder_threshold(document: dict[str, Any], requested: int | None) -> int | None:
    recorded = document["config"].get("report", {}).get("suppress_below")
    if requested is not None and requested != recorded:
        raise PublishError(
            f"this render folder was made with suppress_below {recorded}; re-render it with --suppress-below "
            f"{requested} (its pages cannot be suppressed afterwards), or publish the dataset itself"
        )
    return recorded


def _published_files(threshold: int | None, publish_results: bool) -> tuple[str, ...]:
    """Result files that go on the site: the analyst's unsuppressed files only when suppression is off, or when
    the configuration says so (``report.publish_results``)."""
    return RESULT_FILES if threshold is None or publish_results else ()


def _render_into(run, folder: Path, threshold: int | None, progress: Progress) -> None:
    from . import report as manuscript

    built = manuscript.build(run, progress=progress)
    with StagedOutput(folder, manifest=False) as staged:  # a new version folder: nothing stale to remove
        manuscript.write(built, staged, results=bool(_published_files(threshold, run.config.report.publish_results)),
                         progress=progress)
        staged.publish()


def _copy_render_folder(source: Path, folder: Path, document: dict[str, Any], threshold: int | None) -> None:
    name = document["config"]["report"]["name"]
    needed = [f"{name}.html", f"{name}.pdf", REPORT_VALUES_FILE]
    missing = [file for file in needed if not (source / file).is_file()]
    if missing:
        raise PublishError(
            f"{source} lacks {', '.join(missing)}: publish needs a folder written by `ketareport render` "
            "(re-render it, or publish the dataset itself)"
        )
    publish_results = document["config"]["report"].get("publish_results", False)
    for file in [*needed, *_published_files(threshold, publish_results)]:
        shutil.copy2(source / file, folder / file)
    if (source / "figures").is_dir():
        shutil.copytree(source / "figures", folder / "figures")


def _finish_version(staging: Path, site: Path, document: dict[str, Any], key: str, threshold: int | None,
                    previous: PublishedVersion | None, *, number: int) -> PublishedVersion:
    """Write the version page and version.json into the staged folder; returns the index entry."""
    from markupsafe import Markup

    from .present.formats import format_date

    name = document["config"]["report"]["name"]
    if previous is None:
        changes, fragment = "First published version.", ""
    else:
        differences = compare(load_values(site / previous.folder, REPORT_VALUES_FILE),
                              load_values(staging, REPORT_VALUES_FILE))
        changes = summary_line(differences)
        if data_digest(document) == previous.data_digest and not differences:
            changes = "Same data; the configuration changed, no printed value did."
        fragment = diff_html(differences, f"What changed since version {previous.number}, as printed")
    report = document["config"]["report"]
    date = report.get("date") or document["provenance"]["generated_at"]
    version = PublishedVersion(
        number=number, key=key, title=document["config"]["study"]["title"],
        report_version=report.get("version"), status=report.get("status", "draft"),
        report_date=format_date(dt.datetime.fromisoformat(str(date)).date()), data_digest=data_digest(document),
        published_at=dt.datetime.now(tz=dt.timezone.utc).replace(microsecond=0).isoformat(),
        report_html=f"{name}.html", report_pdf=f"{name}.pdf",
        result_files=[REPORT_VALUES_FILE, *(f for f in RESULT_FILES if (staging / f).is_file())],
        changes=changes, suppress_below=threshold,
    )
    figures = sorted(p.name for p in (staging / "figures").glob("*.svg")) if (staging / "figures").is_dir() else []
    (staging / "index.html").write_text(
        _template("version.html").render(version=version, previous=previous, diff_fragment=Markup(fragment),
                                        figures=figures),
        encoding="utf-8",
    )
    (staging / VERSION_FILE).write_text(json.dumps(asdict(version), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return version
