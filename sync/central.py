"""The central's store: schema and migrations, bundle import (verify first, then one transaction).

Records are keyed by (device, epoch, seq). Verification happens before any write, outside the
transaction; the write itself is one short BEGIN IMMEDIATE transaction, so that many concurrent
importers (the push endpoint's threads and `urne sync import`) queue on SQLite's lock instead of
failing with "database is locked".
"""

import json
import os
import sqlite3
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC
from pathlib import Path

from .bundle import read_unverified_bundle
from .bundle_rows import verify_bundle_rows
from .central_schema import MIGRATIONS, ballot_key
from .crypto import fingerprint, sha256_hex
from .errors import BundleError, ConflictError, UrneError

DB_NAME = "central.db"
BUNDLES = "bundles"
BUSY_SECONDS = 120


@dataclass(frozen=True)
class ImportResult:
    """What one bundle import did."""

    status: str  # imported | present (all records known) | already (same file) | fork
    hash: str
    device: str
    epoch: int
    first: int
    last: int
    added: int
    present: int
    state: str  # the device chain's state afterwards


class CentralStore:
    """The central's SQLite database and bundle folder under one URNE_HOME."""

    def __init__(self, home, *, timeout=BUSY_SECONDS):
        self.home = Path(home)
        self.bundle_dir = self.home / BUNDLES
        self.conn = sqlite3.connect(
            self.home / DB_NAME, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        self.conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        # Records are ~1 KB: 8 KB pages hold twice as many, a quarter less CPU per insert than
        # 4 KB (docs/benchmarks.md). Only a new database takes it; an existing one keeps its own.
        self.conn.execute("PRAGMA page_size = 8192")
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        self._migrate()

    def close(self):
        """Close the connection."""
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextmanager
    def write(self):
        """One write transaction taken with BEGIN IMMEDIATE (waits for the lock, never upgrades)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _migrate(self):
        if self.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS):
            return  # the common case: no write lock taken just to open the store
        with self.write() as c:
            version = c.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise UrneError(
                    "database from a newer Urne",
                    where=str(self.home / DB_NAME),
                    expected=f"schema <= {len(MIGRATIONS)}",
                    got=version,
                )
            for number in range(version, len(MIGRATIONS)):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        c.execute(statement)
                c.execute(f"PRAGMA user_version = {number + 1}")

    # Small read helpers used by the pages, the tally and publish -----------------------------

    def meta(self, key, default=None):
        """A value of the meta table."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key, value):
        """Set a meta value (its own transaction)."""
        with self.write() as c:
            c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, str(value)))

    def devices(self):
        """Every (device, epoch) seen, with its chain state, as dicts."""
        cur = self.conn.execute(
            "SELECT device, epoch, fingerprint, state, records, max_seq, ballots, first_sync,"
            " last_sync, fork_detail FROM devices ORDER BY device, epoch"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def import_log(self, limit=200):
        """The latest import log entries, newest first."""
        cur = self.conn.execute(
            "SELECT id, at, source, bundle, device, epoch, outcome, added, present, detail"
            " FROM imports ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def bundle_paths(self):
        """((device, epoch), stored file) of every imported bundle, by hash order."""
        rows = self.conn.execute("SELECT hash, device, epoch FROM bundles ORDER BY hash")
        return [((d, e), self.bundle_dir / f"{h}.urne") for h, d, e in rows]

    def revoked(self):
        """(device, epoch) chains on the installed revocation list (kept in meta by open_central)."""
        return frozenset(tuple(x) for x in json.loads(self.meta("revoked", "[]")))

    def records(self, exclude=None, *, ordered=True):
        """(device, epoch, seq, body bytes) of accepted records in key order, minus the
        `exclude`d (device, epoch) chains (default: the revoked ones, which do not count).

        `ordered=False`: in storage order, for a reader that sorts (results.collect does);
        about a tenth faster at 1,000,000 records.
        """
        exclude = self.revoked() if exclude is None else exclude
        sql = "SELECT device, epoch, seq, body FROM records"
        rows = self.conn.execute(sql + " ORDER BY device, epoch, seq" if ordered else sql)
        if not exclude:
            return rows
        return (r for r in rows if (r[0], r[1]) not in exclude)

    def certificate(self, device, epoch):
        """The stored certificate bytes of a device epoch (from its first import), or None."""
        row = self.conn.execute(
            "SELECT certificate FROM devices WHERE device = ? AND epoch = ?", (device, epoch)
        ).fetchone()
        return bytes(row[0]) if row else None

    # Import ----------------------------------------------------------------------------------

    def has_bundle(self, file_hash):
        """Whether a bundle file with this hash was already imported."""
        q = "SELECT 1 FROM bundles WHERE hash = ?"
        return self.conn.execute(q, (file_hash,)).fetchone() is not None

    def bundle_result(self, file_hash):
        """An `already` ImportResult for a bundle file imported before, or None."""
        row = self.conn.execute(
            "SELECT b.device, b.epoch, b.first, b.last, coalesce(d.state, 'complete')"
            " FROM bundles b LEFT JOIN devices d USING (device, epoch) WHERE b.hash = ?",
            (file_hash,),
        ).fetchone()
        if row is None:
            return None
        device, epoch, first, last, state = row
        return ImportResult("already", file_hash, device, epoch, first, last, 0, 0, state)

    def incoming(self, data):
        """Write received bytes to a private temporary file in the bundle folder; its path."""
        self.bundle_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.bundle_dir, prefix=".incoming-", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return Path(tmp)

    def apply(self, bundle, *, size, source, at, rows=None):
        """Write one verified bundle in one transaction; raise ConflictError on a fork.

        `rows`: the bundle's records already as table rows (see compact_rows), if at hand.
        """
        rows = rows if rows is not None else compact_rows(bundle)
        try:
            with self.write() as c:
                if c.execute("SELECT 1 FROM bundles WHERE hash = ?", (bundle.hash,)).fetchone():
                    _log(c, at, source, bundle, "already", 0, 0, None)
                    state = _state(c, bundle.device, bundle.epoch)
                    return _result(bundle, "already", 0, 0, state)
                fork = _find_fork(c, bundle, rows)
                if fork is not None:
                    raise _Fork(fork)
                new = _new_rows(c, bundle, rows)
                c.executemany(
                    "INSERT INTO records (device, epoch, seq, hash, prev, kind, ballot, channel,"
                    " time, body, signature, ballot_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    new,
                )
                state = _update_device(c, bundle, at, new)
                c.execute(
                    "INSERT INTO bundles (hash, device, epoch, first, last, head, count, size,"
                    " imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (bundle.hash, bundle.device, bundle.epoch, bundle.first, bundle.last,
                     bundle.head, len(rows), size, at),
                )  # fmt: skip
                present = len(rows) - len(new)
                status = "imported" if new else "present"
                _log(c, at, source, bundle, status, len(new), present, None)
        except _Fork as fork:
            # The bundle is refused as a whole; only the device's flag and the log change.
            self._flag_fork(bundle, str(fork), source=source, at=at)
            raise ConflictError(
                f"fork: {fork}", where=f"device {bundle.device} epoch {bundle.epoch}"
            ) from None
        return _result(bundle, status, len(new), present, state)

    def _flag_fork(self, bundle, detail, *, source, at):
        with self.write() as c:
            _ensure_device(c, bundle, at)
            c.execute(
                "UPDATE devices SET state = 'fork', fork_detail = coalesce(fork_detail, ?)"
                " WHERE device = ? AND epoch = ?",
                (detail, bundle.device, bundle.epoch),
            )
            _log(c, at, source, bundle, "fork", 0, 0, detail)


class _Fork(Exception):
    """Internal: rolls the import transaction back before the device is flagged."""


def _row(bundle, r):
    body = r.body
    kind = body["type"]
    ballot = body.get("ballot")
    channel = body.get("channel")
    return (
        bundle.device,
        bundle.epoch,
        r.seq,
        r.hash,
        body["prev"],
        kind,
        ballot,
        channel,
        body["time"],
        bytes(r.body_bytes),
        bytes(r.signature),
        ballot_key(ballot) if kind == "ballot" else None,
    )


def _find_fork(c, bundle, rows):
    """A description of how this bundle contradicts stored records, or None."""
    stored = {
        seq: (h, prev)
        for seq, h, prev in c.execute(
            "SELECT seq, hash, prev FROM records WHERE device = ? AND epoch = ?"
            " AND seq BETWEEN ? AND ?",
            (bundle.device, bundle.epoch, bundle.first - 1, bundle.last + 1),
        )
    }
    for row in rows:
        seq, h = row[2], row[3]
        if seq in stored and stored[seq][0] != h:
            return f"record {seq} differs from the one already stored"
    before = stored.get(bundle.first - 1)
    if before is not None and rows and rows[0][4] != before[0]:
        return f"record {bundle.first} does not link to stored record {bundle.first - 1}"
    after = stored.get(bundle.last + 1)
    if after is not None and after[1] != bundle.head:
        return f"stored record {bundle.last + 1} does not link to record {bundle.last}"
    # A ballot id names one ballot: the same id under another key is a replay, not a vote.
    # Looked up by ballot_key, a prefix shared by other ids now and then: whole ids compared.
    ballots = {row[6]: (row[0], row[1], row[2]) for row in rows if row[5] == "ballot"}
    keys = sorted({row[11] for row in rows if row[5] == "ballot"})
    sql = "SELECT ballot, device, epoch, seq FROM records WHERE ballot_key IN ({})"
    for ballot, device, epoch, seq in select_in(c, sql, keys):
        if ballot in ballots and (device, epoch, seq) != ballots[ballot]:
            return f"ballot id {ballot} already used by {device} epoch {epoch} seq {seq}"
    return None


def select_in(conn, sql, values, size=500):
    """Rows of `sql`, whose one `IN ({})` takes `values`, asked `size` values at a time."""
    rows = []
    for i in range(0, len(values), size):
        chunk = values[i : i + size]
        rows += conn.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall()
    return rows


def _new_rows(c, bundle, rows):
    known = {
        seq
        for (seq,) in c.execute(
            "SELECT seq FROM records WHERE device = ? AND epoch = ? AND seq BETWEEN ? AND ?",
            (bundle.device, bundle.epoch, bundle.first, bundle.last),
        )
    }
    return [r for r in rows if r[2] not in known]


def _ensure_device(c, bundle, at):
    cert = bytes(bundle.certificate.bytes)
    c.execute(
        "INSERT OR IGNORE INTO devices (device, epoch, certificate, fingerprint, state,"
        " first_sync, last_sync) VALUES (?, ?, ?, ?, 'complete', ?, ?)",
        (bundle.device, bundle.epoch, cert, fingerprint(bundle.certificate.key), at, at),
    )


def _update_device(c, bundle, at, new):
    """Add the `new` rows to the device's counts (records are only ever added, never removed)."""
    _ensure_device(c, bundle, at)
    # From the rows just inserted, not a count over all of the device's records: importing a
    # device's hundredth incremental bundle costs what its first did.
    added_ballots = [row[5] for row in new].count("ballot")
    top = max([row[2] for row in new], default=0)
    c.execute(
        "UPDATE devices SET records = records + ?, max_seq = max(max_seq, ?),"
        " ballots = ballots + ?, last_sync = max(last_sync, ?) WHERE device = ? AND epoch = ?",
        (len(new), top, added_ballots, at, bundle.device, bundle.epoch),
    )
    # A chain is complete when its seqs are 1..max_seq with none missing (seqs are unique).
    c.execute(
        "UPDATE devices SET state = CASE WHEN state = 'fork' THEN 'fork'"
        " WHEN records = max_seq THEN 'complete' ELSE 'gap' END WHERE device = ? AND epoch = ?",
        (bundle.device, bundle.epoch),
    )
    return _state(c, bundle.device, bundle.epoch)


def _state(c, device, epoch):
    row = c.execute(
        "SELECT state FROM devices WHERE device = ? AND epoch = ?", (device, epoch)
    ).fetchone()
    return row[0] if row else "complete"


def _log(c, at, source, bundle, outcome, added, present, detail):
    c.execute(
        "INSERT INTO imports (at, source, bundle, device, epoch, outcome, added, present, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (at, source, bundle.hash, bundle.device, bundle.epoch, outcome, added, present, detail),
    )


def _result(bundle, status, added, present, state):
    return ImportResult(
        status,
        bundle.hash,
        bundle.device,
        bundle.epoch,
        bundle.first,
        bundle.last,
        added,
        present,
        state,
    )


def _read_source(source):
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "upload"
    path = Path(source)
    try:
        return path.read_bytes(), str(path)
    except OSError as exc:
        raise BundleError(f"cannot read bundle ({exc.strerror})", where=str(path)) from exc


def compact_rows(bundle):
    """The records of a verified bundle as rows of the records table (cheap to pickle)."""
    return [_row(bundle, r) for r in bundle.records]


def import_bundle(store, election, source, *, revocations=None, now, name=None, verified=None):
    """Verify a bundle (path or bytes) completely, then write it in one transaction.

    Returns an ImportResult; raises the verification error, or ConflictError on a fork (the
    device is then flagged and nothing else changes). `verified`: the VerifiedBundle (with its
    records) of these same bytes, from a caller that verified them already (the push endpoint).
    """
    if store.meta("purged"):
        raise ConflictError("the central was purged; no more imports", where=str(store.home))
    data, label = _read_source(source)
    at = _stamp(now)
    data_hash = sha256_hex(data)
    known = store.bundle_result(data_hash)
    if known is not None:
        # The very same file was verified and imported before: report it, touch nothing.
        return known
    tmp = store.incoming(data)
    try:
        # The bytes checked are exactly the bytes stored: `data`, hashed above and written to the
        # private copy (verified from memory: no second read, no second hash).
        if verified is None:
            ub = read_unverified_bundle(tmp, file_hash=False, data=data)
            ub = replace(ub, hash=data_hash)
            bundle, rows = verify_bundle_rows(ub, election, revocations)
        else:
            bundle, rows = verified, None
        if verified is not None and verified.hash != data_hash:
            raise BundleError("verified bundle does not match the bytes", where=label)
        result = store.apply(bundle, size=len(data), source=name or label, at=at, rows=rows)
        final = store.bundle_dir / f"{bundle.hash}.urne"
        if not final.exists():
            os.replace(tmp, final)
        return result
    finally:
        tmp.unlink(missing_ok=True)


def _stamp(now):
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
