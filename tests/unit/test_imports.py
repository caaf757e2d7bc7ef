"""What a command imports: the start-up of a new process is mostly imports (bench/bench_startup.py times it).

Each check runs a new interpreter, since this one has imported everything
already. Tests of what is imported, not of time.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def imported_after(code: str) -> set[str]:
    """The modules a new interpreter holds after running ``code``."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(json.loads(completed.stdout.splitlines()[-1]))


def test_the_command_line_alone_imports_no_scientific_package():
    """``ketareport --help`` and a command's argument errors stay fast: the engine is imported by the command."""
    heavy = {"numpy", "pandas", "scipy", "pyarrow", "pydantic", "yaml", "jinja2", "weasyprint"}
    assert {name.split(".")[0] for name in imported_after("import ketareport.cli")} & heavy == set()


def test_the_file_pipeline_imports_neither_scipy_special_whole_nor_the_database_path():
    modules = imported_after("import ketareport.pipeline")
    assert "scipy.special._ufuncs" in modules
    # scipy.special's __init__ (its array-API layer imports numpy.f2py and numpy.testing), and the
    # database path's modules, and the presentation's, are for other commands.
    assert {"scipy.special", "numpy.f2py", "numpy.testing", "ketareport.sources.run"} & modules == set()
    assert {name for name in modules if name.startswith("ketareport.present")} == set()  # the render's
    assert {name for name in modules if name.split(".")[0] in ("pydantic", "pydantic_core")} == set()  # config_schema instead


@pytest.mark.parametrize("name", ["betaincinv", "ndtr", "ndtri", "stdtr", "stdtrit"])
def test_the_distribution_functions_are_scipy_special_s_own(name):
    """The same ufunc objects, so the same bits: ketareport.special only skips the package's __init__."""
    code = (
        "import ketareport.statistics as statistics, scipy.special\n"
        f"print(getattr(statistics, {name!r}) is getattr(scipy.special, {name!r}))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.split() == ["True"]


def test_scipy_special_imported_first_is_used_as_it_is():
    code = (
        "import scipy.special\nimport ketareport.special as special\n"
        "print(special.stdtr is scipy.special.stdtr, special._source is scipy.special)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.split() == ["True", "True"]
