"""Documentation stays in step with the code (as sqlite-utils' test_docs does)."""

from __future__ import annotations

import re

from ketareport import cli

from ..conftest import REPO

README = (REPO / "README.md").read_text()
CONFIGURATION = (REPO / "docs" / "configuration.md").read_text()


def test_every_command_is_in_the_readme():
    for command in cli.main.commands:
        assert f"ketareport {command}" in README, command


def test_readme_gives_exactly_two_setup_commands_that_exist():
    setup = README.split("## Set-up", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in setup.strip().splitlines()]
    assert commands == ["bash scripts/demo.sh", "bash scripts/test.sh"]
    for command in commands:
        assert (REPO / command.split()[1]).is_file()
    assert "scripts/test.sh" in (REPO / ".ci" / "run").read_text()


def test_configuration_page_is_generated_from_the_schema():
    from ketareport.config_docs import configuration_markdown

    assert CONFIGURATION == configuration_markdown(), "regenerate: python -m ketareport.config_docs > docs/configuration.md"


def test_every_config_option_is_documented():
    from ketareport.config_docs import Option, schema_entries

    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", CONFIGURATION, flags=re.MULTILINE))
    options = {entry.key for entry in schema_entries() if isinstance(entry, Option)}
    assert documented == options and "analysis.relief.thresholds" in options


DATA_DICTIONARY = (REPO / "docs" / "data-dictionary.md").read_text()


def _documented_columns(table: str) -> list[tuple[str, str, str, str]]:
    section = DATA_DICTIONARY.split(f"\n## {table}\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| (.+?) \| (.+?) \| (.+) \|$", section, flags=re.MULTILINE)
    return [tuple(cell.strip() for cell in row) for row in rows]


def test_data_dictionary_is_the_contract():
    from ketareport.contract import TABLES

    for table, columns in TABLES.items():
        declared = [(c.name, c.type, c.required, c.rule) for c in columns]
        assert _documented_columns(table) == declared, table


def test_architecture_names_every_module():
    """docs/architecture.md has a paragraph for every module (regenerate its graph: python scripts/module_graph.py)."""
    architecture = (REPO / "docs" / "architecture.md").read_text()
    package = REPO / "ketareport"
    for path in sorted(package.glob("*.py")) + sorted(package.glob("*/*.py")):
        if path.name in ("__init__.py", "__main__.py"):
            continue
        if path.parent == package:
            named = f"**`{path.name}`**" in architecture
        else:  # a file of a package: the package's paragraph names it
            named = f"**`{path.parent.name}/`**" in architecture and f"`{path.name}`" in architecture
        assert named, f"docs/architecture.md does not describe {path.relative_to(REPO)}"
