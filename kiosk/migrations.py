"""Numbered schema migrations of the kiosk database; they only ever add, never reset.

`PRAGMA user_version` holds the number of the last migration applied. Each migration runs in its
own transaction together with the version bump, so a power cut leaves the database either before
or after a step, never in between. A database from a newer Urne is refused, not "repaired".
"""

import sqlite3

from .errors import StoreCorrupt

# Records are append-only: the triggers refuse UPDATE and DELETE so that no code path (ours or a
# careless maintenance query) can rewrite a signed ballot. A tamperer can drop them, which is why
# the chain is also re-verified at every start.
_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE records (
    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
    kind TEXT NOT NULL CHECK (kind IN ('ballot', 'session_open', 'session_close', 'void')),
    hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
    prev TEXT NOT NULL CHECK (length(prev) = 64),
    body BLOB NOT NULL,
    signature BLOB NOT NULL CHECK (length(signature) = 64),
    ballot_id TEXT UNIQUE,
    day TEXT NOT NULL
);
CREATE INDEX records_kind ON records (kind, seq);
CREATE INDEX records_day ON records (day, kind);
CREATE TABLE head (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    seq INTEGER NOT NULL REFERENCES records (seq),
    hash TEXT NOT NULL
);
CREATE TABLE voter_tags (tag BLOB PRIMARY KEY CHECK (length(tag) = 32)) WITHOUT ROWID;
CREATE TRIGGER records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'records are append-only'); END;
CREATE TRIGGER records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'records are append-only'); END;
"""

_V2 = """
CREATE TABLE exports (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    path TEXT NOT NULL,
    first INTEGER NOT NULL,
    last INTEGER NOT NULL REFERENCES records (seq),
    count INTEGER NOT NULL,
    head TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    whole INTEGER NOT NULL CHECK (whole IN (0, 1))
);
CREATE TABLE pin_state (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    locked_until TEXT
);
INSERT INTO pin_state (one, failures) VALUES (1, 0);
"""

MIGRATIONS = (
    (1, "chain records, head and the device's voter-tag set", _V1),
    (2, "export history and the PIN lockout counter", _V2),
)
LATEST = MIGRATIONS[-1][0]


def schema_version(db):
    """The number of the last migration applied to this database (0 when empty)."""
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db, *, upto=LATEST):
    """Apply the missing migrations in order, each in one transaction; return (before, after)."""
    before = schema_version(db)
    if before > LATEST:
        raise StoreCorrupt(
            "the database was written by a newer version of Urne",
            expected=f"schema version <= {LATEST}",
            got=before,
        )
    for number, _title, script in MIGRATIONS:
        if number <= before or number > upto:
            continue
        _apply(db, number, script)
    return before, schema_version(db)


def _apply(db, number, script):
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Re-read inside the write lock: another process may have migrated meanwhile.
        if conn.execute("PRAGMA user_version").fetchone()[0] >= number:
            conn.execute("ROLLBACK")
            return
        for statement in _statements(script):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {int(number)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _statements(script):
    # executescript() would COMMIT first; split on complete statements instead, so that the
    # whole migration stays inside our transaction.
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement in migration: {buffer.strip()[:60]}")
