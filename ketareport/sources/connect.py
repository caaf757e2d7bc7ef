"""Open a dataset in its engine: an Ibis connection and the two tables, columns matched to the contract.

Column names are matched ignoring case, through the ``data.columns`` map of
study.yml where the source names a column differently; the tables come back
with the contract's column names, so every later query is written once.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DatasetInvalid, Problem, SourceInUse
from ..contract import INFUSION_COLUMNS, PATIENT_COLUMNS
from . import SourceSpec

CONTRACT_COLUMNS = {"patients": PATIENT_COLUMNS, "infusions": INFUSION_COLUMNS}
FILE_FORMATS = ("parquet", "csv")


@dataclass(frozen=True)
class SourceTable:
    """One table in the engine, its columns renamed to the contract's."""

    name: str
    """``patients`` or ``infusions``."""
    label: str
    """How messages name it: ``infusions (research.ketamine_infusions)``."""
    table: Any
    """The Ibis table: the contract columns the source has, under their contract names."""
    source_columns: dict[str, str]
    """Contract column -> the source's own column name (for messages)."""
    duplicated: tuple[str, ...]
    """Source column names that appear more than once ignoring case."""
    mapped: dict[str, str] = field(default_factory=dict)
    """Contract column -> the source column study.yml's ``data.columns`` names for it, present or not (for
    messages: an absent column is named as the source would have it)."""


@dataclass(frozen=True)
class Source:
    spec: SourceSpec
    backend: Any
    patients: SourceTable
    infusions: SourceTable
    container: str
    """Human description for the appendix, e.g. ``PostgreSQL database``."""
    work: Any = None
    """DuckDB: the temporary folder of the run's own database file, where :meth:`keep` stores its tables."""
    kept: list[tuple[str, Any]] = field(default_factory=list)
    """What :meth:`keep` made (its name, the table), released by :meth:`close`."""

    def keep(self, expression, *, grouped_texts: bool = False) -> Any:
        """``expression`` computed once into a table of the engine (Spark: a cached DataFrame).

        Every later query reads the stored rows instead of computing the
        expression again from the source tables (typing, trimming, joining).
        Only per-patient tables are kept, never the infusions (storing ten
        million rows cost more than reading them again). PostgreSQL keeps a
        temporary table. DuckDB keeps a temporary table (at 1.3 million
        patients written in 1.3 s, against 3-4 s for a table of its database
        file), except for a table whose texts later queries group
        (``grouped_texts``): the database file stores them dictionary-compressed,
        and grouping 1.3 million diagnoses took 0.06 s from it and 2.5 s of
        CPU from a temporary table.
        """
        if self.spec.engine == "spark":
            cached = expression.cache()
            self.kept.append(("", cached))
            return cached
        name = f"ketareport_{uuid.uuid4().hex[:16]}"
        table = self.backend.create_table(name, expression, temp=self.work is None or not grouped_texts)
        self.kept.append((name, table))
        return table

    def close(self) -> None:
        """Drop what was kept; disconnect, except from Spark (the session is the process's own, shared by later runs)."""
        for name, kept in reversed(self.kept):
            if self.spec.engine == "spark":
                kept.release()
            else:
                self.backend.raw_sql(f'DROP TABLE "{name}"')
        self.kept.clear()
        if self.spec.engine != "spark":
            self.backend.disconnect()
        if self.work is not None:
            self.work.cleanup()


def open_source(spec: SourceSpec) -> Source:
    """Connect and find both tables; :class:`DatasetInvalid` when either cannot be reached."""
    backend, container, views, work = _connect(spec)
    problems: list[Problem] = []
    tables = {}
    for name, wanted in (("patients", spec.patients_table), ("infusions", spec.infusions_table)):
        try:
            tables[name] = _table(backend, spec, name, wanted, views.get(wanted))
        except DatasetInvalid as error:
            problems += error.problems
    if problems:
        if spec.engine != "spark":
            backend.disconnect()
        if work is not None:
            work.cleanup()
        raise DatasetInvalid(problems)
    return Source(spec, backend, tables["patients"], tables["infusions"], container, work)


def _connect(spec: SourceSpec) -> tuple[Any, str, dict[str, str], Any]:
    """The backend, its description, (Spark) the views made for table files: table name -> view, and
    (DuckDB) the run's temporary folder."""
    try:
        if spec.engine == "duckdb":
            backend, work = _connect_duckdb(spec.location)
            return backend, "DuckDB database", {}, work
        if spec.engine == "postgres":
            import ibis

            return ibis.connect(spec.location), "PostgreSQL database", {}, None
        if spec.engine == "spark":
            backend, views = _connect_spark(spec)
            return backend, f"Spark ({spec.spark_master})", views, None
    except (DatasetInvalid, SourceInUse):
        raise
    except ImportError as error:
        extra = {"duckdb": "duckdb", "postgres": "postgres", "spark": "spark"}[spec.engine]
        raise DatasetInvalid([Problem(
            shown_location(spec.location), f"needs the {spec.engine} engine, which is not installed: "
            f"pip install 'ketareport[{extra}]' ({error})",
        )]) from error
    except Exception as error:  # each driver raises its own connection errors
        raise DatasetInvalid([Problem(shown_location(spec.location), f"cannot be opened with {spec.engine}: {error}")]) from error
    raise DatasetInvalid([Problem(shown_location(spec.location), f"unknown engine {spec.engine!r}")])


def shown_location(location: str) -> str:
    """A location fit for a message: a URL's password is never printed."""
    from ..provenance import without_password

    return without_password(location)


DUCKDB_CATALOG = "study"
DUCKDB_MEMORY_LIMIT = "600MB"
"""DuckDB's own memory (it spills to a temporary folder beyond it): the whole run stays under 1 GB."""


def _connect_duckdb(location: str):
    """A DuckDB database of the run's own, in a temporary folder, with the file attached read-only: the
    file is never written, and the run has somewhere to keep its tables. Returns it and the folder."""
    import tempfile

    import ibis

    path = location.removeprefix("duckdb://")
    if Path(path).is_dir():
        raise DatasetInvalid([Problem(path, "is a folder, not a DuckDB database file: --engine duckdb reads a .duckdb "
                                            "file; a folder of CSV, Parquet, Excel or R files is read without --engine")])
    if not Path(path).is_file():
        raise DatasetInvalid([Problem(path, "does not exist: a DuckDB database file was expected there")])
    work = tempfile.TemporaryDirectory(prefix="ketareport-duckdb-")
    backend = ibis.duckdb.connect(str(Path(work.name) / "work.duckdb"), memory_limit=DUCKDB_MEMORY_LIMIT, temp_directory=work.name)
    try:
        backend.raw_sql(f"ATTACH '{path.replace(chr(39), chr(39) * 2)}' AS {DUCKDB_CATALOG} (READ_ONLY)")
    except Exception as error:
        backend.disconnect()
        work.cleanup()
        if "Could not set lock" in str(error):  # DuckDB's IOException of a file another process holds open for writing
            holder = re.search(r"lock is held in (.*) \(PID (\d+)\)", str(error))
            by = f" (PID {holder[2]}: {holder[1]})" if holder else ""
            raise SourceInUse(f"{path} is in use: another process{by} holds the DuckDB file open for writing; "
                              "nothing was read or written; run again once it is closed") from error
        raise
    # The kept tables' row order is never read: without keeping it DuckDB fills them in parallel, in less memory.
    backend.raw_sql("SET preserve_insertion_order = false")
    return backend, work


def _connect_spark(spec: SourceSpec):
    """A Spark session (``local[*]`` unless study.yml names a master) and its Ibis backend.

    Where the location is a folder holding ``patients`` and ``infusions``
    Parquet or CSV files, Spark reads them itself (CSV cells as text, as the
    file path reads them) into views named for this run; otherwise the
    table names are looked up in the session's catalog (a Hive metastore,
    Databricks' Unity Catalog ...).
    """
    import uuid

    import ibis
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(spec.spark_master).appName("ketareport")
        .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
    )
    if spec.spark_master.startswith("local"):
        # Spark's 200 shuffle partitions suit a cluster; on one machine they are 200 tiny tasks per group-by.
        builder = builder.config("spark.sql.shuffle.partitions", "4")
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    backend = ibis.pyspark.connect(session)
    folder = Path(spec.location)
    run = uuid.uuid4().hex[:12]
    views = {}
    for table in (spec.patients_table, spec.infusions_table):
        files = {fmt: folder / f"{table}.{fmt}" for fmt in FILE_FORMATS}
        view = f"ketareport_{run}_{table}".replace(".", "_")
        if files["parquet"].is_file():
            backend.read_parquet(str(files["parquet"]), table_name=view)
        elif files["csv"].is_file():
            backend.read_csv(str(files["csv"]), table_name=view, header=True, inferSchema=False, encoding="UTF-8")
        else:
            continue
        views[table] = view
    return backend, views


def _table(backend, spec: SourceSpec, name: str, wanted: str, view: str | None = None) -> SourceTable:
    database, _, table_name = (None, "", view) if view else wanted.rpartition(".")
    label = name if wanted == name else f"{name} ({wanted})"
    where: Any = database or None
    if spec.engine == "duckdb":
        where = (DUCKDB_CATALOG, database or "main")
    try:
        table = backend.table(table_name, database=where)
    except Exception as error:  # a missing table is a different exception in each backend
        raise DatasetInvalid([Problem(label, f"cannot be read from {shown_location(spec.location)}: no table {wanted} ({type(error).__name__})")]) from error
    by_lower: dict[str, list[str]] = {}
    for column in table.columns:
        by_lower.setdefault(column.strip().lower(), []).append(column)
    duplicated = tuple(sorted(lower for lower, names in by_lower.items() if len(names) > 1))
    source_columns = {}
    for column in CONTRACT_COLUMNS[name]:
        wanted_column = spec.columns.get(column, column).strip().lower()
        if wanted_column in by_lower:
            source_columns[column] = by_lower[wanted_column][0]
    # With none of the contract's columns there is nothing to select; the rules then report each required one absent.
    renamed = table.select(**{column: table[source] for column, source in source_columns.items()}) if source_columns else table
    mapped = {column: spec.columns[column] for column in CONTRACT_COLUMNS[name] if column in spec.columns}
    return SourceTable(name, label, renamed, source_columns, duplicated, mapped)
