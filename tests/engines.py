"""Real database engines for the tests: DuckDB (embedded), a PostgreSQL server, Spark in local mode.

The PostgreSQL server is Debian's (``postgresql`` package): ``initdb`` and
``pg_ctl`` make and start a throw-away cluster in a temporary folder,
listening only on a Unix socket there, and stop it at the end of the test
session. Run as root (as CI does), the server runs as the ``postgres``
user, which refuses to start as root.

Each helper loads a CSV dataset directory into its engine *as text*, the way
the CSV file path reads it, so that both paths see the same cells.
"""

from __future__ import annotations

import csv
import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

TABLES = ("patients", "infusions")


def csv_into_duckdb(dataset: Path, database: Path, *, typed: bool = False, schema: str | None = None,
                    names: dict[str, str] | None = None) -> Path:
    """The two CSV tables as tables of a new DuckDB file: all text, or with DuckDB's own types (``typed``)."""
    import duckdb

    connection = duckdb.connect(str(database))
    try:
        if schema:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        for table in TABLES:
            name = (names or {}).get(table, table)
            target = f'"{schema}"."{name}"' if schema else f'"{name}"'
            options = "" if typed else ", all_varchar = true"
            connection.execute(f"CREATE TABLE {target} AS SELECT * FROM read_csv(?, header = true{options})",
                               [str(dataset / f"{table}.csv")])
    finally:
        connection.close()
    return database


def find_postgres_bin() -> Path | None:
    """Debian keeps the server programs out of PATH, in /usr/lib/postgresql/<version>/bin."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class PostgresServer:
    """A throw-away PostgreSQL cluster on a Unix socket in a temporary folder."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="ketareport-pg-"))
        self.data = self.root / "data"
        self.socket = self.root / "socket"
        self.as_postgres = os.geteuid() == 0  # the server refuses to run as root
        self.user = "postgres" if self.as_postgres else None

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def start(self) -> "PostgresServer":
        self.socket.mkdir()
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.socket, "postgres")
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "--encoding=UTF8", "--no-sync")
        options = f"-c listen_addresses='' -c unix_socket_directories='{self.socket}' -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-w", "-l", str(self.root / "server.log"), "start")
        return self

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def connect(self, database: str = "postgres"):
        import psycopg

        return psycopg.connect(host=str(self.socket), user="postgres", dbname=database, autocommit=True)

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        name = f"study_{uuid.uuid4().hex[:12]}"
        with self.connect() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket}"

    def load_csv(self, dataset: Path, *, schema: str | None = None, names: dict[str, str] | None = None) -> str:
        """A new database holding the two CSV tables as text columns; returns its URL."""
        url = self.new_database()
        database = url.split("/")[3].split("?")[0]
        with self.connect(database) as connection:
            if schema:
                connection.execute(f'CREATE SCHEMA "{schema}"')
            for table in TABLES:
                path = dataset / f"{table}.csv"
                with path.open(encoding="utf-8-sig", newline="") as handle:
                    header = next(csv.reader(handle))
                name = (names or {}).get(table, table)
                target = f'"{schema}"."{name}"' if schema else f'"{name}"'
                columns = ", ".join(f'"{column}" text' for column in header)
                connection.execute(f"CREATE TABLE {target} ({columns})")
                with connection.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                    copy.write(path.read_bytes())
        return url


def assert_same_results(expected, actual, path: str = "results", rel: float = 1e-9) -> None:
    """Every field of two result trees equal; floats to ``rel`` relative; id lists as sets (a database has no row order)."""
    import dataclasses
    import math

    if dataclasses.is_dataclass(expected):
        assert type(expected) is type(actual), path
        for field in dataclasses.fields(expected):
            assert_same_results(getattr(expected, field.name), getattr(actual, field.name), f"{path}.{field.name}", rel)
    elif isinstance(expected, dict):
        assert list(expected) == list(actual), f"{path}: keys {list(expected)} != {list(actual)}"
        for key in expected:
            assert_same_results(expected[key], actual[key], f"{path}[{key!r}]", rel)
    elif isinstance(expected, (list, tuple)):
        if path.endswith("_ids"):
            assert sorted(expected) == sorted(actual), path
            return
        assert len(expected) == len(actual), f"{path}: {len(expected)} != {len(actual)} items"
        for index, (left, right) in enumerate(zip(expected, actual)):
            assert_same_results(left, right, f"{path}[{index}]", rel)
    elif isinstance(expected, float) and not isinstance(expected, bool):
        assert isinstance(actual, float), f"{path}: {actual!r} is not a float"
        if math.isnan(expected):
            assert math.isnan(actual), f"{path}: {actual} is not NaN"
        else:
            assert actual == expected or abs(actual - expected) <= rel * max(abs(actual), abs(expected)), \
                f"{path}: {actual!r} != {expected!r}"
    else:
        assert expected == actual, f"{path}: {actual!r} != {expected!r}"


def problem_set(problems) -> set[tuple]:
    """What a problem says, apart from where it is: (column, value, message).

    The duplicate-id message differs only in naming the first row (a file)
    or the number of rows (a database), so that part is left out.
    """
    import re

    return {
        (problem.column, problem.value,
         re.sub(r" \((first in row \d+|\d+ rows)\)$", "", problem.message).replace("patients.csv", "patients"))
        for problem in problems
    }
