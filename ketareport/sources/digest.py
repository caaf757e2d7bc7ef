"""A digest of the rows of a database's two tables, computed in the engine, whatever their order.

A file has a SHA-256; a server's table has no bytes to hash, and no row
order. So each row of each table is made one text (its contract columns as
text, in the contract's order, ``|``-separated, a missing cell marked),
hashed by the engine's own 64-bit (PostgreSQL ``hashtextextended``) or
32-bit (Spark ``hash``, Murmur3) hash function, and the table is reduced to
its row count and two sums of the row hashes modulo two primes: an
aggregate that any row order gives alike, and that a changed, added or
removed row changes (unless two sums collide, about one chance in 10^18).
The data digest is the SHA-256 of those figures, one line per table.

It is deterministic for a given engine and hash function: the same rows in
PostgreSQL and in Spark give different digests (their hash functions
differ), and it changes if the engine changes its hash function.
"""

from __future__ import annotations

import hashlib

from .connect import Source, SourceTable

MODULI = (2_147_483_647, 1_000_000_007)
"""Two primes below 2^31: a sum of their residues over 2^32 rows still fits in 64 bits."""
MISSING = "\\N"
"""How a missing cell is written in the row's text (as PostgreSQL's COPY writes it)."""


def row_digest(source: Source) -> str:
    """SHA-256 (hex) of ``table rows sum1 sum2`` lines for patients and infusions, as the module says."""
    lines = [f"{table.name} {' '.join(str(figure) for figure in _table_figures(table))}\n"
             for table in (source.patients, source.infusions)]
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def _table_figures(table: SourceTable) -> tuple[int, ...]:
    import ibis

    rows = table.table
    cells = [ibis.coalesce(rows[column].cast("string"), MISSING) for column in table.source_columns]
    text = ibis.literal("|").join(cells) if cells else ibis.literal("")
    hashed = rows.select(h=text.hash())
    figures = hashed.aggregate(n=hashed.count(), **{f"s{i}": (hashed.h % modulus).sum() for i, modulus in enumerate(MODULI)})
    row = figures.to_pyarrow().to_pylist()[0]
    return (int(row["n"]), *(int(row[f"s{i}"] or 0) for i in range(len(MODULI))))
