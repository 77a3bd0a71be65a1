"""The kiosk's durable storage: signed, chained records in SQLite that survive a power cut.

Open one `KioskStore` per process with `KioskStore.open(home, now=...)` and share it between
threads (every method takes the store's lock). Opening verifies everything and refuses a stand
whose database or chain is not intact. All times are timezone-aware datetimes; record times are
written in the election's time zone. Every refusal is a `kiosk.errors.KioskError` (or a trust-core
`UrneError` such as `SelectionError`) whose message can be shown to the agent as it is.

    store = KioskStore.open(home, now=now)
    store.open_session(now, clock="agent")
    store.eligibility(identity, today=now.date())       # raises Ineligible, stores nothing
    receipt = store.cast(selections, identity=identity, lang="fr", now=now, clock="agent")
    store.close_session(now, clock="agent")              # -> (ballots this session, head hash)
    path, count, head = store.export(drive, now=now)

Tables (kiosk/migrations.py): `records` (append-only), `head`, `voter_tags` (WITHOUT ROWID, keyed
by the tag, so storage order says nothing of voting order), `exports`, `pin_state`, `meta`.
"""

import os
import shutil
import sqlite3
import threading
import zoneinfo
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlite_utils import Database

from sync import crypto, records, tags
from sync.canonical import parse_canonical
from sync.election import read_package
from sync.enroll import read_certificate, read_revocations
from sync.errors import UrneError

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
from .verify import ChainReport, check_database, verify_chain

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


@dataclass(frozen=True)
class Status:
    """What the agent's status screen shows."""

    ballots_today: int
    ballots_total: int
    voids_total: int
    device: str
    epoch: int
    fingerprint: str
    election: str
    head: str | None
    records: int
    last_export: dict | None
    free_disk: int
    clock: str
    chain: ChainReport
    session: Session


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
        role = home / "role"
        if not role.exists() or role.read_text().strip() != "kiosk":
            raise NotSetUp("this folder is not a kiosk: run `urne kiosk init`", where=str(home))
        election = read_package(_read(home / "election.urne", "the election package"))
        cert_path = home / "device.cert"
        if not cert_path.exists():
            raise NotSetUp(
                "no device certificate: run `urne kiosk install-certificate`", where=str(cert_path)
            )
        certificate = read_certificate(cert_path.read_bytes(), election, where=str(cert_path))
        revocations = None
        if (home / "revocations.urne").exists():
            revocations = read_revocations((home / "revocations.urne").read_bytes(), election)
            revocations.check(certificate.device, certificate.epoch)
        device_key = crypto.load_private_key(home / "keys" / "device.key")
        if crypto.public_bytes(device_key) != bytes(certificate.key):
            raise NotSetUp(
                "the certificate is for another key than this device's",
                where=str(cert_path),
                expected=crypto.fingerprint(crypto.public_bytes(device_key)),
                got=crypto.fingerprint(certificate.key),
            )
        box = crypto.load_private_key(home / "keys" / "box.key", kind=X25519PrivateKey)
        secret = certificate.open_secret(box)
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
        fields = {k: identity[k] for k in self.election.eligibility["identity_fields"]}
        if "birth_date" in fields:
            fields["birth_date"] = rules.parse_birth_date(fields["birth_date"]).isoformat()
        return tags.voter_tag(self.voter_key, fields)

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

    def cast(self, selections, *, identity, lang, channel="kiosk", now, clock, rng=None):
        """Validate, sign and commit one ballot (record, head, voter tag in ONE transaction)."""
        local = self.local(now)
        self.election.validate_selections(selections)
        if lang not in self.election.languages:
            raise SessionError(
                "unknown language",
                where="lang",
                expected="/".join(self.election.languages),
                got=lang,
            )
        if (
            not self.election.window["opens"]
            <= local.date().isoformat()
            <= self.election.window["closes"]
        ):
            raise StandClosed(
                "voting is closed",
                where="window",
                expected=(f"{self.election.window['opens']} to {self.election.window['closes']}"),
                got=local.date().isoformat(),
            )
        fields = rules.check(self.election, identity, today=local.date())
        tag = tags.voter_tag(self.voter_key, fields)
        ballot_id = (rng.randbytes(16) if rng else os.urandom(16)).hex()
        sealed = tags.seal_tag(self.election.central_key, tag, self.election.id)
        with self._write() as conn:
            if not self._session(conn).open:
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
        """Counts, identity of the device, last export, free disk, clock, chain and session."""
        local = self.local(now)
        with self._lock:
            q = self.db.conn.execute
            count = {
                kind: q("SELECT count(*) FROM records WHERE kind = ?", (kind,)).fetchone()[0]
                for kind in ("ballot", "void")
            }
            today = q(
                "SELECT count(*) FROM records WHERE kind = 'ballot' AND day = ?",
                (local.date().isoformat(),),
            ).fetchone()[0]
            head = q("SELECT seq, hash FROM head").fetchone()
            last = q(
                "SELECT at, path, first, last, count, head FROM exports ORDER BY id DESC LIMIT 1"
            ).fetchone()
            session = self._session(self.db.conn)
        keys = ("at", "path", "first", "last", "count", "head")
        return Status(
            today,
            count["ballot"],
            count["void"],
            self.device,
            self.epoch,
            self.certificate.fingerprint,
            self.election.id,
            head[1] if head else None,
            head[0] if head else 0,
            dict(zip(keys, last, strict=True)) if last else None,
            shutil.disk_usage(self.home).free,
            local.isoformat(timespec="seconds"),
            self.chain,
            session,
        )

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


@contextmanager
def opened(home, *, now):
    """A KioskStore open for the duration of a block (for one-shot commands)."""
    store = KioskStore.open(home, now=now)
    try:
        yield store
    finally:
        store.close()


def check_kiosk(home, *, now):
    """Open the kiosk (which checks the database and the chain) and return the ChainReport."""
    with opened(home, now=now) as store:
        return store.chain


def kiosk_status(home, *, now):
    """The Status of the kiosk in `home`."""
    with opened(home, now=now) as store:
        return store.status(now)


def export_kiosk(home, dest_dir, *, whole=False, now):
    """Export the kiosk in `home` to dest_dir (created if missing); (path, count, head)."""
    Path(dest_dir).mkdir(parents=True, exist_ok=True)
    with opened(home, now=now) as store:
        return store.export(dest_dir, all=whole, now=now)


def _read(path, what):
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise NotSetUp(f"{what} is missing", where=str(path)) from exc


__all__ = [
    "KioskStore",
    "Receipt",
    "Session",
    "Status",
    "UrneError",
    "check_kiosk",
    "connect",
    "export_kiosk",
    "kiosk_status",
    "opened",
]
