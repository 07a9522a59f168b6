"""The ``table`` evaluator: results looked up in a benchmark CSV.

A ``.gz`` table is decompressed as it is read (the bundled NAS-Bench-201
table, :data:`nasl.data.NB201_TABLE`, is one). A *format* turns an architecture into the key that the table is indexed
by. ``nb201`` (the default) is NAS-Bench-201's architecture string in the
column ``ArchitectureString``, for the space of
``examples/nas_bench_201.nas``; ``arch_json`` is nasl's own canonical
architecture JSON in a column ``arch``, for tables a user writes.

>>> from nasl.data import NB201_TABLE
>>> ev = TableEvaluator(NB201_TABLE)
>>> ev.directions
{'CIFAR10TestAccuracy200Epochs': 'max'}
"""
from __future__ import annotations

import csv
import os

from nasl.data import open_text
from nasl.ir.errors import NaslError

_TABLES: dict = {}       # per process: (path, mtime, key column) -> (columns, rows by key)


def _nb201_key(arch) -> str:
    from nasl.formats.nb201 import to_string
    first = next(iter(arch), "")
    prefix = first.split(".edge[")[0] if ".edge[" in first else "cell"
    return to_string(arch, prefix=prefix)


def _json_key(arch) -> str:
    from nasl.ir.architecture import Architecture
    return (arch if isinstance(arch, Architecture) else Architecture(arch)).to_json()


FORMATS = {"nb201": ("ArchitectureString", _nb201_key), "arch_json": ("arch", _json_key)}


def _read(path: str, key_column: str):
    try:
        mtime = os.path.getmtime(path)
    except OSError as e:
        raise NaslError(f"cannot read the table '{path}': {e.strerror}") from None
    cache = (path, mtime, key_column)
    if cache not in _TABLES:
        try:
            with open_text(path) as f:
                reader = csv.DictReader(f)
                columns = list(reader.fieldnames or [])
                if key_column not in columns:
                    raise NaslError(f"the table '{path}' has no key column '{key_column}' (it has {columns})")
                rows = {row[key_column]: row for row in reader}
        except (OSError, EOFError) as e:       # EOFError, gzip.BadGzipFile: a damaged .gz
            raise NaslError(f"cannot read the table '{path}': {getattr(e, 'strerror', None) or e}") from None
        _TABLES[cache] = (columns, rows)
    return _TABLES[cache]


class TableEvaluator:
    """Look each architecture up in a CSV table.

    Parameters
    ----------
    path : str
        The CSV file.
    column : str, optional
        The objective column (default: the first column whose first row is a number).
    format : str
        How an architecture becomes the key: one of :data:`FORMATS`.
    direction : {"max", "min"}
        The objective's direction.
    extra : list of str, optional
        More columns to report as metrics (default: every other numeric one).

    A missing architecture fails its trial with the key in the reason.
    """

    def __init__(self, path, column: str | None = None, format: str = "nb201", direction: str = "max",
                 extra=None):
        if format not in FORMATS:
            raise NaslError(f"unknown table format '{format}'; known: {', '.join(FORMATS)}")
        if direction not in ("max", "min"):
            raise NaslError(f"direction is 'max' or 'min', not {direction!r}")
        self.path, self.format = os.path.abspath(os.fspath(path)), format
        columns, rows = _read(self.path, FORMATS[format][0])
        first = next(iter(rows.values()), {})
        numeric = [c for c in columns if _is_number(first.get(c))]
        if column is None:
            if not numeric:
                raise NaslError(f"the table '{path}' has no numeric column to use as the objective")
            column = numeric[0]
        elif column not in columns:
            raise NaslError(f"the table '{path}' has no column '{column}'; its columns: {', '.join(columns)}")
        self.column = column
        self.extra = [c for c in (numeric if extra is None else extra) if c != column]
        self.directions = {column: direction}
        self._rows = None

    def __getstate__(self):
        # a worker reads the table itself rather than receiving 15,000 rows through a pipe
        return dict(self.__dict__, _rows=None)

    def __call__(self, request) -> dict:
        key_column, key_of = FORMATS[self.format]
        if self._rows is None:
            self._rows = _read(self.path, key_column)[1]
        rows = self._rows
        key = key_of(request.arch)
        row = rows.get(key)
        if row is None:
            raise KeyError(f"architecture {key} is not in the table {os.path.basename(self.path)}")
        out = {self.column: float(row[self.column])}
        for c in self.extra:
            if _is_number(row.get(c)):
                out[c] = float(row[c])
        return out

    def __repr__(self) -> str:
        return f"TableEvaluator({self.path!r}, {self.column!r}, format={self.format!r})"


def _is_number(text) -> bool:
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False
