"""Datasets kept in a database engine: DuckDB, PostgreSQL or Spark, through one portable layer.

A DATASET that is a DuckDB file (``study.duckdb``, ``duckdb:///path``), a
database URL (``postgresql://...``) or any location read with
``--engine spark`` is analysed *where the data are*: every rule of the data
dictionary runs as a query (:mod:`.rules`), and the analysis reduces the
tables to a few hundred rows of aggregates in the engine
(:mod:`.aggregate`); the statistics are then computed from those aggregates
as for files. All three engines run the same Ibis expressions, so no
engine-specific SQL is written here.

Nothing in this module imports Ibis or an engine: the command line asks
:func:`engine_for` whether a DATASET is a database at all, and the file
path (``ketareport analyze data/demo``) never pays for the engines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

ENGINES = ("duckdb", "postgres", "spark")
DUCKDB_SUFFIXES = (".duckdb", ".ddb")
URL_ENGINES = {"duckdb://": "duckdb", "postgresql://": "postgres", "postgres://": "postgres"}
DEFAULT_SPARK_MASTER = "local[*]"


@dataclass(frozen=True)
class SourceSpec:
    """Where a dataset lives in an engine and how its tables and columns are named."""

    location: str
    """As given: a DuckDB file or URL, a PostgreSQL URL, or (Spark) a folder of table files."""
    engine: str
    patients_table: str = "patients"
    infusions_table: str = "infusions"
    columns: Mapping[str, str] = field(default_factory=dict)
    """Contract column -> the column's name in the source, where they differ."""
    spark_master: str = DEFAULT_SPARK_MASTER


def engine_for(dataset: str, engine: str | None = None) -> str | None:
    """The engine a DATASET names, or None for a file or folder read by the file path."""
    if engine is not None:
        return engine
    text = str(dataset)
    for prefix, name in URL_ENGINES.items():
        if text.startswith(prefix):
            return name
    if text.lower().endswith(DUCKDB_SUFFIXES):
        return "duckdb"
    return None


@dataclass(frozen=True)
class DatabaseSource:
    """Where a run's tables were read in an engine, as the report's appendix states it."""

    engine: str
    """``DuckDB``, ``PostgreSQL``, ``Spark``."""
    location: str
    """The DuckDB file, the database URL (never its password) or the Spark location, as given."""
    patients_table: str
    infusions_table: str
    row_digest: bool
    """The data digest is of the rows, computed by the engine (:mod:`.digest`), not of a file's bytes."""
