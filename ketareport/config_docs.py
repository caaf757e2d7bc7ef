"""``docs/configuration.md`` and the ``ketareport init`` template, generated from the schema.

Every option is documented once, in the field descriptions of
:mod:`ketareport.config`; this module lays them out twice: as a Markdown page
and as a commented ``study.yml``. ``tests/integration/test_docs.py`` fails
when the committed page differs from :func:`configuration_markdown`;
regenerate it with ``python -m ketareport.config_docs > docs/configuration.md``.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

import yaml

from . import config_schema as schema
from .config import StudyConfig

METADATA_BLOCK = "study"
"""In the template, the study's metadata are commented examples to fill in, not defaults."""


@dataclass(frozen=True)
class Option:
    """One key of study.yml, as the schema declares it."""

    key: str
    """Dotted path, e.g. ``analysis.relief.method``."""
    default: Any
    """The default value; None when there is none."""
    default_text: str
    description: str
    example: Any
    depth: int


@dataclass(frozen=True)
class Block:
    key: str
    description: str
    depth: int


def _nested_block(option: schema.Option) -> type[schema.Block] | None:
    """The block of a nested block (``analysis.relief``); not of a list of mappings or an optional value."""
    return option.kind.block if isinstance(option.kind, schema.BlockOf) else None


def schema_entries(block: type[schema.Block] = StudyConfig, prefix: str = "", depth: int = 0) -> list[Block | Option]:
    """The blocks and options of study.yml, in the schema's order."""
    entries: list[Block | Option] = []
    for name, option in block.options.items():
        key = f"{prefix}{name}"
        nested = _nested_block(option)
        if nested is not None:
            entries.append(Block(key, option.description, depth))
            entries += schema_entries(nested, f"{key}.", depth + 1)
            continue
        default = option.default_value()
        if isinstance(default, tuple) and default and isinstance(default[0], schema.Block):
            default = [item.dump() for item in default]
        entries.append(Option(
            key=key, default=default if default not in (None, (), {}) else None,
            default_text=option.default_text or _default_text(default),
            description=option.description, example=option.example, depth=depth,
        ))
    return entries


def _default_text(default: Any) -> str:
    if default in (None, (), {}):
        return "none"
    return f"`{_flow(default)}`"


def _flow(value: Any) -> str:
    """A value as one line of YAML."""
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1000).strip().removesuffix("\n...").strip()


def configuration_markdown() -> str:
    """The whole of ``docs/configuration.md``."""
    lines = [
        "# Study configuration (`study.yml`)",
        "",
        "<!-- Generated from ketareport/config.py by `python -m ketareport.config_docs`; do not edit by hand. -->",
        "",
        "One YAML file holds the study's metadata and every analysis option. The",
        "commands take it from `--config FILE`, else from a `study.yml` inside the",
        "dataset directory (or beside a workbook or R file), else use the defaults",
        "below, which reproduce the published analysis. Every block and every key is",
        "optional. A wrong option stops the run like wrong data: every problem is",
        "listed with its key, value and what was expected, and nothing is written",
        "(exit status 2). `ketareport init DIR` writes a commented `study.yml` with",
        "every option; the report's appendix prints the configuration actually used,",
        "itself a valid `study.yml`.",
        "",
        "A report is a draft, DRAFT across every PDF page (`ketareport render` says what is",
        "missing; `--strict` stops instead), until the configuration gives `study.title`,",
        "`study.authors`, `study.review_board` and `study.period`, and `report.status: final`",
        "(the default is `draft`; `ketareport check` says which the render will be).",
    ]
    for entry in schema_entries():
        if entry.depth == 0:
            heading = f"`{entry.key}`: {entry.description}" if isinstance(entry, Block) else f"`{entry.key}`"
            lines += ["", f"## {heading}", "", "| key | default | meaning |", "|---|---|---|"]
        if isinstance(entry, Block):
            continue
        lines.append(f"| `{entry.key}` | {entry.default_text} | {entry.description} |")
    lines += ["", "## Template", "", "What `ketareport init` writes:", "", "```yaml", study_yml_template().rstrip("\n"), "```", ""]
    return "\n".join(lines)


def study_yml_template() -> str:
    """A commented study.yml with every option: defaults active, metadata as examples to fill in."""
    lines = [
        "# Study configuration for ketareport; every option: docs/configuration.md.",
        "# A line starting with # is a comment: remove the # to use an option.",
        "# An option left out takes its default. Until the study block gives a title,",
        "# authors, review_board and period, the report is marked as a draft.",
    ]
    for entry in schema_entries():
        indent = "  " * entry.depth
        if isinstance(entry, Block):
            lines += ["", f"{indent}{entry.key.rsplit('.', 1)[-1]}:  # {entry.description}"]
            continue
        name = entry.key.rsplit(".", 1)[-1]
        if entry.depth == 0:
            lines.append("")
        comment = f"{entry.description}; default: {entry.default_text}".replace("`", "")
        lines += [f"{indent}# {line}" for line in textwrap.wrap(comment, width=96 - len(indent))]
        commented = entry.key.startswith(f"{METADATA_BLOCK}.") or entry.default is None
        value = entry.example if commented else entry.default
        if isinstance(value, (list, dict)):
            text = yaml.safe_dump({name: value}, default_flow_style=None, allow_unicode=True, sort_keys=False, width=100)
        else:
            text = f"{name}: {_flow(value)}"
        for line in text.rstrip("\n").splitlines():
            lines.append(f"{indent}{'# ' if commented else ''}{line}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(configuration_markdown(), end="")
