"""The schema of a study file: its tables, their version, the checks on opening and the migration.

Split from :mod:`nasl.study.storage` (whose docstring describes the tables); these functions take the
:class:`~nasl.study.storage.Storage` being opened (its ``conn``, ``path``, ``readonly`` and ``select``).
"""
from __future__ import annotations

from nasl.study import rows
from nasl.study.rows import StorageError

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS study (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    space_source TEXT NOT NULL, space_file TEXT NOT NULL, params TEXT NOT NULL, ops TEXT NOT NULL,
    searcher TEXT NOT NULL, searcher_options TEXT NOT NULL, seed INTEGER,
    evaluator TEXT NOT NULL, objectives TEXT NOT NULL, budget INTEGER NOT NULL,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY, number INTEGER NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('running', 'complete', 'failed', 'pruned')),
    arch TEXT NOT NULL, arch_id TEXT NOT NULL, budget REAL, seed INTEGER NOT NULL,
    metrics TEXT, curve TEXT, error TEXT, started REAL, finished REAL, duration REAL, worker TEXT,
    ask_seq INTEGER NOT NULL, tell_seq INTEGER, attempts INTEGER NOT NULL DEFAULT 1,
    parent INTEGER, transformation TEXT, inherited REAL);
CREATE INDEX IF NOT EXISTS trials_state ON trials (state);
CREATE INDEX IF NOT EXISTS trials_arch ON trials (arch_id, number);
CREATE TABLE IF NOT EXISTS searcher_states (seq INTEGER PRIMARY KEY, state TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS lock (
    id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, host TEXT NOT NULL,
    started REAL NOT NULL, heartbeat REAL NOT NULL);
"""

TRIAL_COLUMNS = ("id", "number", "state", "arch", "arch_id", "budget", "seed", "metrics", "curve", "error",
                 "started", "finished", "duration", "worker", "ask_seq", "tell_seq", "attempts",
                 "parent", "transformation", "inherited")
# added by schema version 2 (lineage); version 1 files lack them
LINEAGE_COLUMNS = ("parent", "transformation", "inherited")
_MIGRATE_1 = ("ALTER TABLE trials ADD COLUMN parent INTEGER", "ALTER TABLE trials ADD COLUMN transformation TEXT",
              "ALTER TABLE trials ADD COLUMN inherited REAL")
# every table and the columns nasl reads from it; a file that lacks one is damaged
_COLUMNS = {
    "meta": ("key", "value"),
    "study": ("id", "space_source", "space_file", "params", "ops", "searcher", "searcher_options", "seed",
              "evaluator", "objectives", "budget", "created"),
    "trials": TRIAL_COLUMNS,
    "searcher_states": ("seq", "state", "created"),
    "lock": ("id", "pid", "host", "started", "heartbeat"),
}


def _tables(st) -> dict:
    """``{table: set of column names}`` of the file, in one query."""
    out: dict = {}
    for table, column in st.conn.execute(
            "SELECT m.name, p.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p "
            "WHERE m.type = 'table'"):
        out.setdefault(table, set()).add(column)
    return out


def check_schema(st) -> None:
    """Create the schema of a new file, migrate an old one, refuse one that is not a nasl study."""
    tables = _tables(st)
    if not tables and not st.readonly:
        # BEGIN IMMEDIATE first, then look again: of two processes that create one new file at the same
        # instant, the second finds the schema made and goes on to be refused by the lock, not by meta's key
        with st.transaction():
            tables = _tables(st)
            if not tables:
                _refuse_tableless(st)
                _create_schema(st)
        tables = _tables(st)
    if not tables:
        _refuse_tableless(st)
        raise StorageError(f"'{st.path}' holds no study yet (it is an empty file)")
    if "meta" not in tables:
        raise StorageError(f"'{st.path}' is an SQLite file but not a nasl study (it has no 'meta' table)")
    row = st.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    if row is None:
        raise StorageError(f"'{st.path}' has no schema version; it was not written by nasl")
    try:
        version = int(row[0])
    except (TypeError, ValueError):
        raise rows.damaged(st.path, f"its schema version is {row[0]!r:.40}, not a number") from None
    if version > SCHEMA_VERSION:
        raise StorageError(f"'{st.path}' has study schema version {version}, newer than this nasl "
                           f"understands ({SCHEMA_VERSION}); upgrade nasl to open it")
    if version < 1:
        raise StorageError(f"'{st.path}' has study schema version {version}, older than this nasl's "
                           f"({SCHEMA_VERSION}), and no migration exists for it")
    if version == 1:
        tables = _migrate_1(st, tables)
    for table, columns in _COLUMNS.items():
        if table not in tables:
            raise rows.damaged(st.path, f"it has no '{table}' table")
        missing = [c for c in columns if c not in tables[table]]
        if missing:
            raise rows.damaged(st.path, f"its '{table}' table has no column '{missing[0]}'")


def _migrate_1(st, tables: dict) -> dict:
    """Version 1 to 2: the trials table gains the lineage columns (NULL: no parent)."""
    if st.readonly:
        have = tables.get("trials", set())
        st.select = ", ".join(c if c in have or c not in LINEAGE_COLUMNS else f"NULL AS {c}"
                          for c in TRIAL_COLUMNS)
        tables = dict(tables)
        tables["trials"] = have | set(LINEAGE_COLUMNS)
        return tables
    with st.transaction():
        have = {r[1] for r in st.conn.execute("PRAGMA table_info(trials)")}
        for stmt, col in zip(_MIGRATE_1, LINEAGE_COLUMNS):
            if col not in have:
                st.conn.execute(stmt)
        st.conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
    return _tables(st)


def _refuse_tableless(st) -> None:
    # tables gone but pages left: a damaged or emptied file, not a new one to set up
    if st.conn.execute("PRAGMA page_count").fetchone()[0] > 1:
        raise StorageError(f"'{st.path}' is an SQLite file but not a nasl study (it has no tables)")


def _create_schema(st) -> None:
    from nasl import __version__
    for stmt in _SCHEMA.split(";"):
        if stmt.strip():
            st.conn.execute(stmt)
    st.conn.execute("INSERT INTO meta VALUES ('schema_version', ?), ('nasl_version', ?)",
                    (str(SCHEMA_VERSION), __version__))
