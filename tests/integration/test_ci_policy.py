"""Tests that need R skip on a user's machine without R, but fail in CI."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ..conftest import REPO

R_TEST = "tests/unit/test_statistics.py::test_statistics_agree_with_r_on_random_data"


def run_without_r(ci: bool) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PATH"] = os.path.dirname(sys.executable)  # no /usr/bin: no Rscript
    if ci:
        env["CI"] = "true"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", R_TEST],
                          cwd=REPO, env=env, capture_output=True, text=True)


@pytest.mark.slow
@pytest.mark.parametrize("ci, outcome", [(False, "1 skipped"), (True, "1 error")])  # a fixture failure is an error
def test_missing_r(ci, outcome):
    completed = run_without_r(ci)
    assert outcome in completed.stdout, completed.stdout
    assert (completed.returncode != 0) == ci
