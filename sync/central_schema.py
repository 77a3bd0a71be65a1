"""The central database's schema: numbered migrations (PRAGMA user_version); data is never removed."""

KEY_HEX = 8  # ballot_key: the first 8 hex digits of a ballot id, shifted to 31 bits


def ballot_key(ballot_id):
    """The records.ballot_key of a ballot id: a 31-bit prefix, not unique (compare whole ids)."""
    # 31 bits fit SQLite's 4-byte integer: the smallest index that finds a ballot id by a key
    # that is random (ballot ids are), so that inserting 2,000 of them touches few pages.
    return int(ballot_id[:KEY_HEX], 16) >> 1


def _ballot_key_sql(column):
    """SQL computing ballot_key(column) for a lowercase hex id (SQLite 3.40 has no unhex)."""
    digits = (
        f"((instr('0123456789abcdef', substr({column}, {i + 1}, 1)) - 1) << {4 * (KEY_HEX - 1 - i)})"
        for i in range(KEY_HEX)
    )
    return f"(({' | '.join(digits)}) >> 1)"


# Numbered migrations; PRAGMA user_version holds the last one applied. None removes data.
MIGRATIONS = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE devices (
        device TEXT NOT NULL, epoch INTEGER NOT NULL,
        certificate BLOB NOT NULL, fingerprint TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('complete', 'gap', 'fork')),
        records INTEGER NOT NULL DEFAULT 0, max_seq INTEGER NOT NULL DEFAULT 0,
        ballots INTEGER NOT NULL DEFAULT 0,
        first_sync TEXT NOT NULL, last_sync TEXT NOT NULL, fork_detail TEXT,
        PRIMARY KEY (device, epoch)
    ) WITHOUT ROWID;
    -- A rowid table: rows carry ~1 KB bodies, which WITHOUT ROWID handles badly.
    CREATE TABLE records (
        id INTEGER PRIMARY KEY,
        device TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,
        hash TEXT NOT NULL, prev TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('ballot', 'session_open', 'session_close', 'void')),
        ballot TEXT, channel TEXT, time TEXT NOT NULL,
        body BLOB NOT NULL, signature BLOB NOT NULL,
        UNIQUE (device, epoch, seq)
    );
    CREATE INDEX records_ballot ON records (ballot) WHERE ballot IS NOT NULL;
    CREATE TABLE bundles (
        hash TEXT PRIMARY KEY, device TEXT NOT NULL, epoch INTEGER NOT NULL,
        first INTEGER NOT NULL, last INTEGER NOT NULL, head TEXT NOT NULL,
        count INTEGER NOT NULL, size INTEGER NOT NULL, imported_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, source TEXT NOT NULL, bundle TEXT NOT NULL,
        device TEXT, epoch INTEGER, outcome TEXT NOT NULL,
        added INTEGER NOT NULL DEFAULT 0, present INTEGER NOT NULL DEFAULT 0, detail TEXT
    );
    -- Voter-identifying tables, emptied by `urne sync purge`.
    CREATE TABLE tags (ballot TEXT PRIMARY KEY, tag BLOB NOT NULL) WITHOUT ROWID;
    CREATE TABLE online (id TEXT PRIMARY KEY, tag BLOB NOT NULL, time TEXT NOT NULL) WITHOUT ROWID;
    -- Receipt codes are not identifying: kept so the lookup page works after purge.
    CREATE TABLE receipts (ballot TEXT PRIMARY KEY, code TEXT NOT NULL) WITHOUT ROWID;
    CREATE INDEX receipts_code ON receipts (code);
    CREATE TABLE documents (kind TEXT PRIMARY KEY, data BLOB NOT NULL, at TEXT NOT NULL)
        WITHOUT ROWID;
    CREATE TABLE adjudications (
        grp TEXT PRIMARY KEY, data BLOB NOT NULL, at TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 2: push nonces, so that every worker process refuses a replayed push
    # (docs/sync-protocol.md, step 6). IF NOT EXISTS: centrals started before this migration
    # created the table at app start, at user_version 1, and keep their rows.
    """
    CREATE TABLE IF NOT EXISTS push_nonces (
        device TEXT NOT NULL, nonce TEXT NOT NULL, at TEXT NOT NULL,
        PRIMARY KEY (device, nonce)
    ) WITHOUT ROWID;
    """,
    # 3: ballot ids found by a 31-bit integer key instead of their 32-character text. The text
    # index made every import rewrite most of its pages (random keys): twice the bytes written
    # per record at 100,000 ballots, more beyond (docs/benchmarks.md, import).
    f"""
    ALTER TABLE records ADD COLUMN ballot_key INTEGER;
    UPDATE records SET ballot_key = {_ballot_key_sql("ballot")} WHERE kind = 'ballot';
    CREATE INDEX records_ballot_key ON records (ballot_key) WHERE ballot_key IS NOT NULL;
    DROP INDEX records_ballot;
    """,  # noqa: S608 - a constant expression, no input
    # 4: tags by value, so that the groups are found from the tags seen twice (an index scan)
    # instead of reading and counting every tag in Python at each tally.
    """
    CREATE INDEX tags_tag ON tags (tag);
    """,
)
