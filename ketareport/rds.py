"""R's serialisation format (an ``.rds`` file, XDR, format version 2), written from plain data.

A small writer for the few R types ``results.rds`` holds, with whole
columns written at once (numbers as one big-endian array, text as one
joined buffer), so that a results file with a million analysed infusions
is written in about a second; it imports neither pandas nor a conversion
library. What becomes what in R:

======================================  ====================================
Python                                  R
======================================  ====================================
``dict``                                named list
``list`` of ``str`` (or empty)          character vector
``list`` of numbers and ``None``        double vector (``None`` = ``NA``)
any other ``list``                      list
``str`` / ``bool`` / ``int`` / ``float``  length-one character / logical /
                                        integer (double beyond 32 bits) /
                                        double
``None``                                ``NA`` (double)
a pandas ``DataFrame``                  ``data.frame``: boolean columns
                                        logical, integer columns integer,
                                        float columns double, anything else
                                        character; missing = ``NA``
======================================  ====================================

The file is gzip-compressed with mtime 0, so the same data give the same bytes.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path
from typing import Any

import numpy as np

NIL = 254
SYMBOL, PAIRLIST, CHARACTER_ELEMENT, LOGICAL, INTEGER, DOUBLE, CHARACTER, LIST = 1, 2, 9, 10, 13, 14, 16, 19
IS_OBJECT, HAS_ATTRIBUTES, HAS_TAG = 1 << 8, 1 << 9, 1 << 10
UTF8, ASCII = 1 << 3, 1 << 6
"""Encoding flags of a string element (R's ``LEVELS``, shifted by 12 in the flags word)."""
NA_INTEGER = -(2**31)
NA_DOUBLE = np.array([0x7FF00000000007A2], dtype=">u8").view(">f8")[0]
"""R's NA_real_: a NaN with the payload 1954."""
WRITER_VERSION = (4 << 16) | (2 << 8) | 2
"""The R version that a file says wrote it (4.2.2, Debian 12's); readers ignore it."""
OLDEST_READER = (2 << 16) | (3 << 8)
"""Format version 2 is read by R 2.3.0 and later."""


COMPRESS_LEVEL = 1
"""gzip's fastest level. The serialisation of a million analysed infusions is about 70 MB, which level 9
(GzipFile's default) took 20 s to compress and level 6 (R's ``saveRDS``) over 1 s; level 1 takes a
quarter of a second for a file a quarter larger. R reads every level alike."""


def write_rds(path: Path, value: Any) -> None:
    """Stream the serialisation through gzip into ``path`` (never the whole file in memory)."""
    with path.open("wb") as file, gzip.GzipFile(
        filename="", mode="wb", fileobj=file, mtime=0, compresslevel=COMPRESS_LEVEL,
    ) as compressed:
        sink = _Sink(compressed.write)
        serialise(value, sink)
        sink.flush()


def serialise(value: Any, sink: _Sink) -> None:
    sink.append(b"X\n")
    sink.append(struct.pack(">iii", 2, WRITER_VERSION, OLDEST_READER))
    _write(sink, value)  # type: ignore[arg-type]


SINK_BUFFER = 1 << 20
"""Bytes gathered before they go to gzip as one write."""


class _Sink:
    """Where the serialisation goes, piece by piece (``append`` as on a list of parts).

    The pieces are gathered up to :data:`SINK_BUFFER` bytes and written
    together: the results tree alone is thousands of pieces of a few bytes,
    and a gzip write per piece (a CRC and a compressor call each) cost
    more than the serialisation of the demo's results. Deflate's output
    does not depend on how its input is cut, so the file is the same.
    """

    def __init__(self, write):
        self._write = write
        self._pending: list[bytes] = []
        self._size = 0

    def append(self, piece: bytes) -> None:
        self._pending.append(piece)
        self._size += len(piece)
        if self._size >= SINK_BUFFER:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._write(b"".join(self._pending))
            self._pending, self._size = [], 0


def _flags(kind: int, *, attributes: bool = False, is_object: bool = False, tag: bool = False, levels: int = 0) -> bytes:
    return struct.pack(">i", kind | (IS_OBJECT if is_object else 0) | (HAS_ATTRIBUTES if attributes else 0)
                       | (HAS_TAG if tag else 0) | (levels << 12))


def _write(parts: list[bytes], value: Any) -> None:
    if hasattr(value, "columns") and hasattr(value, "iloc"):
        _data_frame(parts, value)
    elif isinstance(value, dict):
        _vector(parts, LIST, list(value.values()), [("names", _strings(list(value)))])
    elif isinstance(value, list):
        if set(map(type, value)) <= {str}:  # tested in C: a list of a million ids is common
            _strings_vector(parts, value)
        elif all(item is None or (isinstance(item, (int, float)) and not isinstance(item, bool)) for item in value):
            _doubles(parts, np.array([NA_DOUBLE if item is None else float(item) for item in value], dtype=float))
        else:
            _vector(parts, LIST, value, [])
    elif value is None:
        _doubles(parts, np.array([NA_DOUBLE]))
    elif isinstance(value, bool):
        _integers(parts, LOGICAL, np.array([int(value)]))
    elif isinstance(value, int):
        if abs(value) < 2**31:
            _integers(parts, INTEGER, np.array([value]))
        else:
            _doubles(parts, np.array([float(value)]))
    elif isinstance(value, float):
        _doubles(parts, np.array([value]))
    elif isinstance(value, str):
        _strings_vector(parts, [value])
    elif isinstance(value, _Prepared):
        value.write(parts)
    else:
        raise TypeError(f"cannot write {type(value).__name__} to an R data file")


class _Prepared:
    """An atomic vector already typed, with its attributes (a data frame's columns and attributes)."""

    def __init__(self, kind: int, values: Any, attributes: list[tuple[str, Any]] | None = None, is_object: bool = False):
        self.kind, self.values, self.attributes, self.is_object = kind, values, attributes or [], is_object

    def write(self, parts: list[bytes]) -> None:
        if self.kind == CHARACTER:
            _strings_vector(parts, self.values, self.attributes)
        elif self.kind == DOUBLE:
            _doubles(parts, self.values, self.attributes)
        else:
            _integers(parts, self.kind, self.values, self.attributes, self.is_object)


def _strings(values: list[str | None]) -> _Prepared:
    return _Prepared(CHARACTER, values)


def _attributes(parts: list[bytes], attributes: list[tuple[str, Any]]) -> None:
    for name, value in attributes:
        parts.append(_flags(PAIRLIST, tag=True))
        parts.append(_flags(SYMBOL))
        _string_elements(parts, [name])
        _write(parts, value)
    parts.append(struct.pack(">i", NIL))


def _vector(parts: list[bytes], kind: int, items: list[Any], attributes: list[tuple[str, Any]], is_object: bool = False) -> None:
    parts.append(_flags(kind, attributes=bool(attributes), is_object=is_object))
    parts.append(struct.pack(">i", len(items)))
    for item in items:
        _write(parts, item)
    if attributes:
        _attributes(parts, attributes)


def _doubles(parts: list[bytes], values: np.ndarray, attributes: list[tuple[str, Any]] | None = None) -> None:
    values = np.asarray(values, dtype=float)
    parts.append(_flags(DOUBLE, attributes=bool(attributes)))
    parts.append(struct.pack(">i", values.size))
    parts.append(values.astype(">f8").tobytes())
    if attributes:
        _attributes(parts, attributes)


def _integers(parts: list[bytes], kind: int, values: np.ndarray, attributes: list[tuple[str, Any]] | None = None,
              is_object: bool = False) -> None:
    values = np.asarray(values)
    parts.append(_flags(kind, attributes=bool(attributes), is_object=is_object))
    parts.append(struct.pack(">i", values.size))
    parts.append(values.astype(">i4").tobytes())
    if attributes:
        _attributes(parts, attributes)


def _strings_vector(parts: list[bytes], values: list[str | None], attributes: list[tuple[str, Any]] | None = None) -> None:
    parts.append(_flags(CHARACTER, attributes=bool(attributes)))
    parts.append(struct.pack(">i", len(values)))
    _string_elements(parts, values)
    if attributes:
        _attributes(parts, attributes)


_ASCII_FLAGS = CHARACTER_ELEMENT | (ASCII << 12)
_UTF8_FLAGS = CHARACTER_ELEMENT | (UTF8 << 12)


SHORT_LIST = 256
"""Lists and columns of text up to this length are encoded string by string, longer ones through Arrow."""
STRING_CHUNK = 1 << 16
"""Strings written per piece, so that a million ids never exist twice over in memory."""


def _string_elements(parts: list[bytes], values: Any) -> None:
    """``values``: a list of ``str``/``None`` (the results tree: names, labels, ids), or a pandas Series of
    text (a data frame's column; missing = NA).

    Each element is a header (flags, byte length; -1 for NA) followed by its
    UTF-8 bytes. A short list or column is encoded string by string (the
    results tree has hundreds of lists of one name, and the demo's columns a
    few dozen rows, where Arrow's per-call cost would dominate); a long one
    (the excluded ids, the analysed infusions of a large study) is laid out
    in pieces with whole-array numpy operations over Arrow's offsets and
    data buffers (:func:`_string_piece`).
    """
    if len(values) <= SHORT_LIST:
        if not isinstance(values, list):
            values = [None if missing else value for value, missing in zip(values.tolist(), values.isna().tolist())]
        parts.append(b"".join(_string_element(value) for value in values))
        return
    import pyarrow as pa

    strings = pa.array(values if isinstance(values, list) else values.array, type=pa.large_string())
    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks()
    for start in range(0, len(strings), STRING_CHUNK):
        parts.append(_string_piece(strings.slice(start, STRING_CHUNK)))


_NA_STRING = struct.pack(">ii", CHARACTER_ELEMENT, -1)


def _string_element(value: str | None) -> bytes:
    if value is None:
        return _NA_STRING
    data = value.encode("utf-8")
    return struct.pack(">ii", _ASCII_FLAGS if len(data) == len(value) else _UTF8_FLAGS, len(data)) + data


def _string_piece(strings: Any) -> bytes:
    """The serialised elements of an Arrow ``large_string`` array."""
    import pyarrow.compute as pc

    n = len(strings)
    missing = strings.is_null().to_numpy(zero_copy_only=False)
    if strings.null_count:
        strings = pc.fill_null(strings, "")  # a null's slot may hold bytes; an empty string holds none
    _, offsets_buffer, data_buffer = strings.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[strings.offset:strings.offset + n + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0]:offsets[-1]] if n else np.empty(0, np.uint8)
    lengths = np.diff(offsets)
    # A string is ASCII when none of its bytes has the high bit set: count those per string.
    high = np.concatenate([[0], np.cumsum(data >= 0x80, dtype=np.int64)])
    relative = offsets - offsets[0]
    non_ascii = high[relative[1:]] > high[relative[:-1]]
    headers = np.empty((n, 2), dtype=">i4")
    headers[:, 0] = np.where(non_ascii, _UTF8_FLAGS, _ASCII_FLAGS)
    headers[:, 1] = lengths
    headers[missing] = (CHARACTER_ELEMENT, -1)
    out = np.empty(8 * n + data.size, dtype=np.uint8)
    starts = 8 * np.arange(n, dtype=np.int64) + relative[:-1]
    out[starts[:, None] + np.arange(8)] = headers.view(np.uint8).reshape(n, 8)
    # Each data byte moves forward by the headers of its string and of those before it.
    owner = np.repeat(np.arange(1, n + 1, dtype=np.int64), lengths)
    out[np.arange(data.size, dtype=np.int64) + 8 * owner] = data
    return out.tobytes()


def _data_frame(parts: list[bytes], frame: Any) -> None:
    import pandas as pd

    columns = []
    for _, column in frame.items():
        missing = column.isna().to_numpy()
        if pd.api.types.is_bool_dtype(column.dtype):
            columns.append(_Prepared(LOGICAL, np.where(missing, NA_INTEGER, column.fillna(False).to_numpy(dtype=bool).astype(np.int64))))
        elif pd.api.types.is_integer_dtype(column.dtype):
            values = column.to_numpy(dtype="float64", na_value=np.nan)
            columns.append(_Prepared(INTEGER, np.where(missing, NA_INTEGER, np.nan_to_num(values)).astype(np.int64)))
        elif pd.api.types.is_float_dtype(column.dtype):
            columns.append(_Prepared(DOUBLE, np.where(missing, NA_DOUBLE, column.to_numpy(dtype="float64", na_value=np.nan))))
        else:
            columns.append(_Prepared(CHARACTER, column.reset_index(drop=True).astype("string")))
    attributes = [
        ("names", _strings([str(name) for name in frame.columns])),
        ("class", _strings(["data.frame"])),
        ("row.names", _Prepared(INTEGER, np.array([NA_INTEGER, -len(frame)]))),  # R's compact 1..n
    ]
    _vector(parts, LIST, columns, attributes, is_object=True)
