"""The Quarto project: variables defined, YAML valid, paths present, pandoc converts it, R chunks run."""

from __future__ import annotations

import os
import re
import stat
import subprocess

import pytest
import yaml
from click.testing import CliRunner

from ketareport import cli
from ketareport.quarto import INCLUDE, VARIABLE, render_quarto, substitute_shortcodes

from .conftest import DEMO, REPO


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    out = tmp_path_factory.mktemp("render")
    result = CliRunner().invoke(cli.main, ["render", str(DEMO), "--out", str(out), "--quarto"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "quarto render" in result.output  # says how to render where Quarto is missing
    return out / "quarto"


def variables(project):
    return yaml.safe_load((project / "_variables.yml").read_text())


def qmd_files(project):
    return sorted((project / "templates").glob("*.qmd"))


def test_every_variable_used_is_defined(project):
    defined = variables(project)
    used = set()
    for source in [*qmd_files(project), *(project / "templates" / "_exhibits").glob("*.md")]:
        used |= set(VARIABLE.findall(source.read_text()))
    assert used, "the templates use no variable"
    for name in used:
        value = defined
        for part in name.split("."):
            assert isinstance(value, dict) and part in value, f"undefined: {name}"
            value = value[part]
        assert isinstance(value, str), name


def test_every_yaml_file_parses(project):
    for path in [REPO / "_quarto.yml", *project.glob("*.yml")]:
        assert isinstance(yaml.safe_load(path.read_text()), dict), path
    for qmd in qmd_files(project):
        front = qmd.read_text().split("---")[1]
        assert isinstance(yaml.safe_load(front), dict), qmd
    config = yaml.safe_load((project / "_quarto.yml").read_text())
    assert config["format"]["html"]["embed-resources"] is True and "typst" in config["format"]
    for rendered in config["project"]["render"]:
        assert (project / rendered).is_file(), rendered
    for metadata in config["metadata-files"]:
        assert (project / metadata).is_file(), metadata
    study = yaml.safe_load((project / "_metadata-study.yml").read_text())
    assert study["title"].startswith("Efficacy of outpatient ketamine") and study["author"][0]["name"] == "Demo Author A"
    assert study["papersize"] == "a4"


def test_every_include_and_figure_exists(project):
    for qmd in qmd_files(project):
        for include in INCLUDE.findall(qmd.read_text()):
            assert (qmd.parent / include).is_file(), include
    for exhibit in (project / "templates" / "_exhibits").glob("figure-*.md"):
        for image in re.findall(r"\]\(([^)]+)\)", exhibit.read_text()):
            assert (exhibit.parent.parent / image).is_file(), image
            assert (exhibit.parent.parent / image).read_text().startswith("<svg")


def test_pandoc_converts_each_document_with_the_numbers(project):
    import pypandoc

    values = variables(project)
    manuscript = project / "templates" / "manuscript.qmd"
    html = pypandoc.convert_text(substitute_shortcodes(manuscript.read_text(), values, manuscript.parent),
                                 "html", format="markdown")
    vas, relief, cohort = values["vas"], values["relief"], values["cohort"]
    for expected in [vas["overall"]["estimate"], vas["difference"]["std_error"], vas["index"]["conf_int"],
                     relief["lasting"]["interval"], cohort["n_infusions_excluded"], "We identified 49 patients"]:
        assert expected.replace("<", "&lt;") in html, expected
    assert "<table" in html and "figure-2-vas.svg" in html
    assert "{{<" not in html
    r_template = project / "templates" / "results-r.qmd"
    assert "readRDS" in pypandoc.convert_text(r_template.read_text(), "html", format="markdown")


def test_an_undefined_variable_is_reported(project):
    with pytest.raises(KeyError, match="vas.nothing"):
        substitute_shortcodes("{{< var vas.nothing >}}", variables(project), project)


@pytest.mark.r
def test_r_template_chunks_run_and_print_the_estimates(project, run_r):
    template = (project / "templates" / "results-r.qmd").read_text()
    chunks = re.findall(r"```\{r\}\n(.*?)```", template, flags=re.S)
    assert len(chunks) == 3
    code = "pdf(NULL)\n" + "\n".join(f"print({{\n{chunk}\n}})" if "kable" in chunk else chunk for chunk in chunks)
    output = run_r(code, cwd=project / "templates")
    assert "Patients: 49" in output and "excluded for missing data: 36" in output
    import csv

    with (project / "templates" / "estimates.csv").open() as handle:
        for row in csv.DictReader(handle):
            assert row["term"] in output
            assert f"{float(row['estimate']):.3f}".rstrip("0").rstrip(".") in output, row


def test_render_quarto_without_quarto_says_none(project, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert render_quarto(project) is None


def test_render_quarto_runs_quarto_when_installed(project, tmp_path, monkeypatch):
    """A stand-in quarto executable: the Quarto CLI cannot be installed on these machines."""
    monkeypatch.setenv("PATH", str(tmp_path), prepend=os.pathsep)
    fake = tmp_path / "quarto"
    fake.write_text("#!/bin/sh\nmkdir -p _output && echo html > _output/manuscript.html\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    outputs = render_quarto(project)
    assert outputs == [project / "_output" / "manuscript.html"]
    subprocess.run(["rm", "-r", str(project / "_output")], check=True)
