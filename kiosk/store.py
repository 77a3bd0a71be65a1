"""The kiosk's durable storage: signed, chained records in SQLite that survive a power cut.

Open one `KioskStore` per process and share it between threads (every method takes the store's
lock; writes use BEGIN IMMEDIATE, so other processes on the same folder are safe too). All times
are timezone-aware datetimes (naive ones are refused); record times are written in the election's
time zone. Refusals are `kiosk.errors.KioskError`s or trust-core `UrneError`s (`SelectionError`,
`RecordError`, ...) whose message can be shown to the agent as it is; none stores anything.

API (stable; the web pages and `urne kiosk` use only this):
- `KioskStore.open(home, *, now=None)`: election, certificate, keys, revocations, database;
  migrations, `PRAGMA integrity_check`, whole-chain re-verification. Raises NotSetUp,
  StoreCorrupt, ChainBroken, RevokedError, ... saying why. `.chain` holds the ChainReport.
- `.election`, `.certificate`, `.device`, `.epoch`, `.tz`, `.local(now)`.
- `.eligibility(identity, *, today)`: raises Ineligible(code, reason); stores nothing.
  `identity` is {"last_name", "first_name", "birth_date", "postcode"/"commune", "declaration"}.
- `.tag_for(identity) -> bytes`, `.has_voted(tag) -> bool`.
- `.cast(selections, *, identity=None | tag=None, lang, channel="kiosk", now, clock, rng=None)`:
  record, chain head and voter tag in ONE transaction, committed before it returns. Raises
  SelectionError, Ineligible, AlreadyVoted, StandClosed (no session, or outside the window),
  RecordError (lang, channel, clock), StoreFailed (SQLite refused; nothing kept).
- `.session() -> Session`, `.open_session(now, clock) -> seq`,
  `.close_session(now, clock) -> (ballots in the session, hash of the session_close record)`.
- `.void_last(reason, *, now, window_seconds) -> (seq, hash)`: a `void` record; the voter tag
  leaves the set so the resident can vote again. Only for a ballot cast since this process
  opened the store (its exact time is kept in memory only). Raises VoidRefused.
- `.verify_pin(pin, *, now)`: raises WrongPin(remaining) or PinLocked(until, retry_after).
- `.status(now) -> Status` (kiosk/status.py), `.check(*, now=None) -> ChainReport`.
- `.export(dest_dir, *, all=False, now) -> (path, count, head)` (kiosk/exporting.py).
- `.close()`.

Tables (kiosk/migrations.py): `records` (append-only), `head`, `voter_tags` (WITHOUT ROWID, keyed
by the tag, so storage order says nothing of voting order), `exports`, `pin_state`, `meta`.
The identity typed by a resident is never stored: only its keyed tag, and sealed in the record.
"""

import os
import sqlite3
import threading
import zoneinfo
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlite_utils import Database

from sync import records, tags
from sync.canonical import parse_canonical
from sync.errors import RecordError, UrneError

from . import eligibility as rules
from . import pin as agent_pin
from .errors import (
    AlreadyVoted,
    NotSetUp,
    SessionError,
    StandClosed,
    StoreCorrupt,
    StoreFailed,
    VoidRefused,
)
from .migrations import migrate
from .setup import load_installation
from .verify import check_database, verify_chain

DB_FILE = "kiosk.db"


@dataclass(frozen=True)
class Receipt:
    """What a resident gets once the ballot is committed (code: the receipt code to look up)."""

    ballot_id: str
    code: str
    seq: int
    hash: str


@dataclass(frozen=True)
class Session:
    """The stand's session: open or not, since which record and claimed time, ballots in it."""

    open: bool
    seq: int | None = None
    opened: str | None = None
    ballots: int = 0
    voids: int = 0


def connect(path):
    """A sqlite-utils Database on `path`: WAL, synchronous=FULL, foreign keys on, busy wait."""
    # check_same_thread=False: the web server's threads share one connection behind our lock.
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
    db = Database(conn)
    db.enable_wal()
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return db


class KioskStore:
    """One kiosk's election, certificate, keys and database (see the module docstring)."""

    def __init__(self, home, election, certificate, device_key, secret, revocations, db):
        self.home = Path(home)
        self.election = election
        self.certificate = certificate
        self.device_key = device_key
        self.revocations = revocations
        self.voter_key, self.receipt_key = tags.election_keys(secret)
        self.db = db
        self.device = certificate.device
        self.epoch = certificate.epoch
        self.tz = zoneinfo.ZoneInfo(election.window["timezone"])
        self.chain = None
        self._lock = threading.RLock()
        # Exact time of the last cast, in memory only: needed for the void window, never stored
        # (the chain keeps only quarter hours so that a time cannot single out a resident).
        self._last_cast = None

    @classmethod
    def open(cls, home, *, now=None):
        """Load the installation in `home`, migrate, check integrity and re-verify the chain."""
        home = Path(home)
        election, certificate, revocations, device_key, secret = load_installation(home)
        try:
            db = connect(home / DB_FILE)
        except sqlite3.DatabaseError as exc:
            raise StoreCorrupt(f"the database cannot be opened ({exc})", where=str(home)) from exc
        try:
            check_database(db)
            migrate(db)
            store = cls(home, election, certificate, device_key, secret, revocations, db)
            store._bind_meta()
            store.check(now=now)
        except BaseException:
            db.close()
            raise
        return store

    def close(self):
        """Close the database (the store is unusable afterwards)."""
        with self._lock:
            self.db.close()

    def _bind_meta(self):
        # One database holds one chain: refuse a certificate of another election, device or epoch.
        want = {"election": self.election.id, "device": self.device, "epoch": str(self.epoch)}
        with self._write() as conn:
            have = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            for key, value in want.items():
                if key not in have:
                    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
                elif have[key] != value:
                    raise NotSetUp(
                        f"the database belongs to another {key}; export it and move it away "
                        "before using this certificate",
                        where=str(self.home / DB_FILE),
                        expected=have[key],
                        got=value,
                    )

    @contextmanager
    def _write(self):
        # BEGIN IMMEDIATE takes the write lock before we read the head, so two writers (threads
        # or processes) can never both build on the same head; sqlite-utils' atomic() issues a
        # deferred BEGIN, which would fail rather than wait in that race.
        with self._lock:
            conn = self.db.conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreFailed(f"nothing was stored: the database refused ({exc})") from exc
                raise

    def check(self, *, now=None):
        """Re-run SQLite's integrity check and verify the whole chain; raise or return the report."""
        with self._lock:
            check_database(self.db)
            self.chain = verify_chain(self, now=now)
            return self.chain

    # Residents -------------------------------------------------------------------------------

    def eligibility(self, identity, *, today):
        """Raise Ineligible (code + plain reason) unless the resident may vote; stores nothing."""
        rules.check(self.election, identity, today=today)

    def tag_for(self, identity):
        """The 32-byte voter tag of an identity (only the fields the election asks for)."""
        return tags.voter_tag(self.voter_key, rules.identity_fields(self.election, identity))

    def has_voted(self, tag):
        """Whether this tag is in the device's set (a lookup, not a verification)."""
        with self._lock:
            row = self.db.execute("SELECT 1 FROM voter_tags WHERE tag = ?", (bytes(tag),))
            return row.fetchone() is not None

    def local(self, now):
        """`now` in the election's time zone (refuses naive datetimes)."""
        if now.tzinfo is None:
            raise SessionError("naive datetime", where="now", expected="a time zone", got="none")
        return now.astimezone(self.tz)

    def cast(
        self, selections, *, identity=None, tag=None, lang, channel="kiosk", now, clock, rng=None
    ):
        """Validate, sign and commit one ballot (record, head, voter tag in ONE transaction).

        Give the `identity` (checked here), or the `tag` of an identity already checked with
        eligibility() and tag_for(), so the caller need not keep the identity until the cast.
        """
        local = self.local(now)
        if (identity is None) == (tag is None):
            raise RecordError(
                "give exactly one of identity= and tag=",
                where="cast",
                expected="identity or tag",
                got="both" if tag is not None else "neither",
            )
        if tag is not None and (not isinstance(tag, bytes | bytearray) or len(tag) != 32):
            raise RecordError("bad voter tag", where="tag", expected="32 bytes", got=repr(tag)[:40])
        self.election.validate_selections(selections)
        self._check_fields(lang, channel, local)
        if tag is None:
            fields = rules.check(self.election, identity, today=local.date())
            tag = tags.voter_tag(self.voter_key, fields)
        tag = bytes(tag)
        ballot_id = (rng.randbytes(16) if rng else os.urandom(16)).hex()
        ephemeral = X25519PrivateKey.from_private_bytes(rng.randbytes(32)) if rng else None
        sealed = tags.seal_tag(
            self.election.central_key, tag, self.election.id, ephemeral=ephemeral
        )
        with self._write() as conn:
            if not self._is_open(conn):
                raise StandClosed("no session is open: the agent must open the stand first")
            if conn.execute("SELECT 1 FROM voter_tags WHERE tag = ?", (tag,)).fetchone():
                raise AlreadyVoted()
            seq, h = self._append(
                conn,
                "ballot",
                local,
                ballot=ballot_id,
                selections=selections,
                channel=channel,
                lang=lang,
                time=records.coarse_time(local),
                clock=clock,
                voter=sealed,
            )
            conn.execute("INSERT INTO voter_tags (tag) VALUES (?)", (tag,))
        self._last_cast = (seq, ballot_id, tag, now)
        return Receipt(ballot_id, tags.receipt_code(self.receipt_key, ballot_id), seq, h)

    def _check_fields(self, lang, channel, local):
        window = self.election.window
        if lang not in self.election.languages:
            raise RecordError(
                "unknown language",
                where="lang",
                expected="/".join(self.election.languages),
                got=repr(lang),
            )
        if channel not in records.CHANNELS:
            raise RecordError(
                "unknown channel",
                where="channel",
                expected="/".join(records.CHANNELS),
                got=repr(channel),
            )
        if not window["opens"] <= local.date().isoformat() <= window["closes"]:
            raise StandClosed(
                "voting is closed",
                where="window",
                expected=f"{window['opens']} to {window['closes']}",
                got=local.date().isoformat(),
            )

    def _append(self, conn, kind, local, **fields):
        # Inside a write transaction: build on the current head, sign, insert, move the head.
        row = conn.execute("SELECT seq, hash FROM head WHERE one = 1").fetchone()
        seq, prev = (
            (row[0] + 1, row[1])
            if row
            else (1, records.genesis(self.election.id, self.device, self.epoch))
        )
        body = records.new_record(
            kind,
            election_id=self.election.id,
            device=self.device,
            epoch=self.epoch,
            seq=seq,
            prev=prev,
            **fields,
        )
        body_bytes, signature = records.sign_record(self.device_key, body)
        h = records.record_hash(body_bytes)
        conn.execute(
            "INSERT INTO records (seq, kind, hash, prev, body, signature, ballot_id, day) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                seq,
                kind,
                h,
                prev,
                body_bytes,
                signature,
                fields["ballot"] if kind == "ballot" else None,
                local.date().isoformat(),
            ),
        )
        conn.execute(
            "INSERT INTO head (one, seq, hash) VALUES (1, ?, ?) "
            "ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            (seq, h),
        )
        return seq, h

    # Sessions ---------------------------------------------------------------------------------

    def _is_open(self, conn):
        # Two index look-ups: cheaper than _session() on the hot path of a cast.
        opened, closed = conn.execute(
            "SELECT (SELECT max(seq) FROM records WHERE kind = 'session_open'), "
            "(SELECT max(seq) FROM records WHERE kind = 'session_close')"
        ).fetchone()
        return opened is not None and (closed or 0) < opened

    def _session(self, conn):
        opened = conn.execute(
            "SELECT max(seq) FROM records WHERE kind = 'session_open'"
        ).fetchone()[0]
        closed = conn.execute(
            "SELECT max(seq) FROM records WHERE kind = 'session_close'"
        ).fetchone()[0]
        if opened is None or (closed or 0) > opened:
            return Session(open=False)
        body = conn.execute("SELECT body FROM records WHERE seq = ?", (opened,)).fetchone()[0]
        ballots, voids = (
            conn.execute(
                "SELECT count(*) FROM records WHERE kind = ? AND seq > ?", (kind, opened)
            ).fetchone()[0]
            for kind in ("ballot", "void")
        )
        opened_at = parse_canonical(body)["time"]
        return Session(True, opened, opened_at, ballots, voids)

    def session(self):
        """The current session's state."""
        with self._lock:
            return self._session(self.db.conn)

    def open_session(self, now, clock):
        """Write a `session_open` record (the agent has confirmed `now`); return its seq."""
        local = self.local(now)
        with self._write() as conn:
            if self._session(conn).open:
                raise SessionError("a session is already open: close it first")
            seq, _ = self._append(
                conn, "session_open", local, time=records.minute_time(local), clock=clock
            )
        return seq

    def close_session(self, now, clock):
        """Write a `session_close` record; return (ballots in the session, head hash to copy)."""
        local = self.local(now)
        with self._write() as conn:
            state = self._session(conn)
            if not state.open:
                raise SessionError("no session is open")
            total = conn.execute("SELECT count(*) FROM records WHERE kind = 'ballot'").fetchone()[0]
            _, h = self._append(
                conn,
                "session_close",
                local,
                time=records.minute_time(local),
                clock=clock,
                ballots=state.ballots,
                voids=state.voids,
                total=total,
            )
        self._last_cast = None
        return state.ballots, h

    def void_last(self, reason, *, now, window_seconds):
        """Void the last ballot (a `void` record, nothing deleted) and free its voter tag."""
        local = self.local(now)
        with self._write() as conn:
            if not self._session(conn).open:
                raise StandClosed("no session is open")
            last = conn.execute(
                "SELECT seq, ballot_id FROM records WHERE kind = 'ballot' ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            if last is None:
                raise VoidRefused("no ballot to void")
            if conn.execute(
                "SELECT 1 FROM records WHERE kind = 'void' AND seq > ?", (last[0],)
            ).fetchone():
                raise VoidRefused("the last ballot is already voided")
            if self._last_cast is None or self._last_cast[0] != last[0]:
                raise VoidRefused("the last ballot was not cast since this kiosk started")
            age = (now - self._last_cast[3]).total_seconds()
            if not 0 <= age <= window_seconds:
                raise VoidRefused(
                    "too late to void the last ballot",
                    expected=f"<= {window_seconds} s",
                    got=f"{int(age)} s",
                )
            seq, h = self._append(
                conn, "void", local, ballot=last[1], reason=reason, time=records.coarse_time(local)
            )
            # The resident asked for a fresh ballot: their tag leaves the set with the old one.
            conn.execute("DELETE FROM voter_tags WHERE tag = ?", (self._last_cast[2],))
        self._last_cast = None
        return seq, h

    # Agent ------------------------------------------------------------------------------------

    def verify_pin(self, pin, *, now):
        """Check the agent PIN; raise WrongPin or PinLocked (kiosk/pin.py)."""
        with self._lock:
            agent_pin.verify_pin(self.db, self.home, pin, now=now)

    def status(self, now):
        """Counts, device, last export, free disk, clock, chain and session (a Status)."""
        from .status import build_status

        with self._lock:
            return build_status(self, now)

    def export(self, dest_dir, *, all=False, now):  # noqa: A002 - the documented keyword
        """Write a bundle (since the last export, or everything) and a database copy to dest_dir."""
        from .exporting import export

        with self._lock:
            return export(self, dest_dir, whole=all, now=now)

    def rows(self, first=1, last=None):
        """(seq, body_bytes, signature, hash) of stored records first..last, in chain order."""
        return self.db.conn.execute(
            "SELECT seq, body, signature, hash FROM records WHERE seq BETWEEN ? AND ? ORDER BY seq",
            (first, last if last is not None else 2**62),
        )


__all__ = ["KioskStore", "Receipt", "Session", "UrneError", "connect"]
