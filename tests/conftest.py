"""Shared fixtures.

Tests that need R, Chromium or Quarto skip on a user's machine without them,
but fail in CI (environment variable ``CI`` set), where they must run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# pytest caches its assertion-rewritten test modules only where bytecode may be written; with
# PYTHONDONTWRITEBYTECODE set (as on the project's machines) it rewrote every test module on every run, about
# 2.5 s of a 32 s quick suite. The caches go to __pycache__ folders, which git ignores.
sys.dont_write_bytecode = False

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo"
R_PACKAGES = ("lme4", "jsonlite")


def _missing_tool(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} — CI must provide it (see .ci/run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def rscript() -> str:
    """Path of Rscript with the R packages the cross-checks use."""
    path = shutil.which("Rscript")
    if path is None:
        _missing_tool("Rscript is not installed (apt-get install r-base-core r-cran-lme4 r-cran-jsonlite)")
    missing = _missing_r_packages(path, R_PACKAGES)
    if missing:
        _missing_tool(f"R packages missing: {', '.join(missing)}")
    return path


def _missing_r_packages(rscript: str, packages: tuple[str, ...]) -> list[str]:
    probe = "for (p in commandArgs(TRUE)) if (!requireNamespace(p, quietly = TRUE)) cat(p, '\\n')"
    return subprocess.run([rscript, "-e", probe, *packages], capture_output=True, text=True, check=True).stdout.split()


@pytest.fixture(scope="session")
def run_r(rscript):
    """Run R code; returns its standard output."""
    def run(code: str, *args: str, cwd: Path | None = None) -> str:
        completed = subprocess.run([rscript, "-e", code, *args], capture_output=True, text=True, cwd=cwd)
        if completed.returncode != 0:
            raise AssertionError(f"R failed:\n{completed.stderr}")
        return completed.stdout
    return run


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        _missing_tool("Debian chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def knitr(rscript) -> None:
    """R's knitr package, the engine of the R Quarto template (templates/results-r.qmd)."""
    if _missing_r_packages(rscript, ("knitr",)):
        _missing_tool("R package knitr is missing (apt-get install r-cran-knitr)")


@pytest.fixture(scope="session")
def rmarkdown(rscript) -> None:
    """R's rmarkdown package (and pandoc, its own or pypandoc-binary's): the R Markdown peer in bench/."""
    if _missing_r_packages(rscript, ("rmarkdown", "knitr")):
        _missing_tool("R package rmarkdown is missing (apt-get install r-cran-rmarkdown)")


QUARTO_INSTALLER = REPO.parent / "shared" / "quarto" / "install.sh"
"""Builds the real Quarto CLI from its source (npm and PyPI only); CI's clone has shared/ beside it."""


@pytest.fixture(scope="session")
def quarto() -> Path:
    """The Quarto CLI: in CI installed by ../shared/quarto/install.sh (about 35 s the first time, under
    a second after), elsewhere the ``quarto`` on the PATH."""
    if os.environ.get("CI"):
        if not QUARTO_INSTALLER.is_file():
            _missing_tool(f"the Quarto installer {QUARTO_INSTALLER} is missing")
        completed = subprocess.run(["bash", str(QUARTO_INSTALLER)], capture_output=True, text=True)
        ready = [line for line in completed.stdout.splitlines() if line.startswith("quarto ready: ")]
        if completed.returncode != 0 or not ready:
            _missing_tool(f"installing Quarto failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}")
        return Path(ready[-1].removeprefix("quarto ready: ").rsplit(" (", 1)[0])
    path = shutil.which("quarto")
    if path is None:
        _missing_tool("the Quarto CLI is not on the PATH (bash ../shared/quarto/install.sh installs it)")
    return Path(path)


def _engine_module(name: str, extra: str) -> None:
    import importlib.util

    if importlib.util.find_spec(name) is None:
        _missing_tool(f"Python package {name} is not installed (pip install 'ketareport[{extra}]')")


@pytest.fixture(scope="session")
def duckdb_engine() -> None:
    """DuckDB through Ibis (embedded: nothing else to install)."""
    _engine_module("ibis", "duckdb")
    _engine_module("duckdb", "duckdb")


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A real PostgreSQL server (Debian's postgresql package) on a Unix socket, for the whole session."""
    from .engines import PostgresServer, find_postgres_bin

    _engine_module("ibis", "postgres")
    _engine_module("psycopg", "postgres")
    bin_dir = find_postgres_bin()
    if bin_dir is None:
        _missing_tool("PostgreSQL is not installed (apt-get install postgresql)")
    server = PostgresServer(bin_dir).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def spark_engine() -> None:
    """PySpark with a Java runtime (Debian's openjdk-17-jre-headless); the session itself is made by ketareport."""
    _engine_module("ibis", "spark")
    _engine_module("pyspark", "spark")
    if shutil.which("java") is None:
        _missing_tool("Java is not installed (apt-get install openjdk-17-jre-headless)")


@pytest.fixture(scope="session")
def generated_3000(tmp_path_factory) -> Path:
    """A generated dataset of 3,000 patients (the demo's design, uncalibrated), as CSV."""
    from ketareport import demo

    folder = tmp_path_factory.mktemp("generated-3000")
    demo.write_demo(folder, patients=3000, seed=3000, rdata=False)
    return folder


SLOW_BY_NATURE = ("r", "browser")
"""Markers of tests that start R or Chromium: each takes seconds, so they are also ``slow``."""


_SLOW_MODULE = re.compile(r"^pytestmark\s*=.*\bpytest\.mark\.(?:slow|r|browser)\b", re.MULTILINE)


def _quick_run(config) -> bool:
    return config.option.markexpr.replace(" ", "") == "notslow"


def pytest_configure(config):
    """The quick run does without Hypothesis's pytest plugin: its only property-based test is slow, and the
    plugin imports all of Hypothesis at the end of every run (a second of CPU, its modules assertion-rewritten)."""
    if _quick_run(config):
        config.pluginmanager.set_blocked("hypothesispytest")


def pytest_ignore_collect(collection_path, config):
    """Under ``-m "not slow"``, a module whose ``pytestmark`` makes every test slow is not even imported:
    its imports (hypothesis, pypdf, pikepdf ...) would cost the quick run seconds for tests it deselects."""
    if not _quick_run(config) or collection_path.suffix != ".py":
        return None
    return True if _SLOW_MODULE.search(collection_path.read_text(encoding="utf-8")) else None


def pytest_collection_modifyitems(config, items):
    """``-m "not slow"`` leaves out every test that starts R or Chromium, wherever it is."""
    for item in items:
        if any(item.get_closest_marker(name) for name in SLOW_BY_NATURE):
            item.add_marker(pytest.mark.slow)
