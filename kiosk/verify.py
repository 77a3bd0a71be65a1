"""Start-up checks of a kiosk database: SQLite integrity, then the whole chain re-verified."""

import sqlite3
from dataclasses import dataclass

from sync import records
from sync.errors import UrneError

from .errors import ChainBroken, StoreCorrupt


@dataclass(frozen=True)
class ChainReport:
    """A chain that verified: how many records, ballots and voids, its head, when checked."""

    records: int
    ballots: int
    voids: int
    head: str | None
    checked_at: str | None


def check_database(db):
    """Run SQLite's integrity check; raise StoreCorrupt with what it found."""
    try:
        found = [row[0] for row in db.conn.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        raise StoreCorrupt(f"the database cannot be read ({exc})") from exc
    if found != ["ok"]:
        raise StoreCorrupt("the database fails SQLite's integrity check", got="; ".join(found[:5]))


def _broken(message, seq, **evidence):
    raise ChainBroken(message, seq=seq, where=f"record {seq}" if seq else None, **evidence)


def verify_chain(store, *, now=None):
    """Verify every stored record in order against the certificate; return a ChainReport."""
    checker = records.RecordChecker(
        key=store.certificate.key,
        election=store.election,
        device=store.device,
        epoch=store.epoch,
    )
    prev = records.genesis(store.election.id, store.device, store.epoch)
    expected = 1
    ballots, voided = set(), set()
    conn = store.db.conn
    cursor = conn.execute(
        "SELECT seq, kind, hash, prev, body, signature, ballot_id FROM records ORDER BY seq"
    )
    for seq, kind, h, prev_col, body_bytes, signature, ballot_id in cursor:
        if not isinstance(body_bytes, bytes) or not isinstance(signature, bytes):
            _broken("a record's body or signature is not stored as bytes", seq)
        try:
            body = checker.check(bytes(body_bytes), bytes(signature), where=f"record {seq}")
            records.check_link(
                body, expected_seq=expected, expected_prev=prev, where=f"record {seq}"
            )
        except UrneError as exc:
            _broken(f"the stored chain does not verify: {exc}", seq)
        if body["seq"] != seq or records.record_hash(body_bytes) != h or prev_col != prev:
            _broken("a record's columns disagree with its signed bytes", seq)
        if kind != body["type"] or ballot_id != (body["ballot"] if kind == "ballot" else None):
            _broken("a record's columns disagree with its signed bytes", seq)
        if kind == "ballot":
            ballots.add(body["ballot"])
        elif kind == "void":
            if body["ballot"] not in ballots or body["ballot"] in voided:
                _broken("a void names no earlier, unvoided ballot", seq, got=body["ballot"])
            voided.add(body["ballot"])
        prev, expected = h, expected + 1
    head = conn.execute("SELECT seq, hash FROM head").fetchone()
    last = (expected - 1, prev) if expected > 1 else None
    if (tuple(head) if head else None) != last:
        _broken("the head does not match the last record", None, expected=last, got=head)
    tags = conn.execute("SELECT count(*) FROM voter_tags").fetchone()[0]
    if tags != len(ballots) - len(voided):
        _broken(
            "the voter-tag set does not match the ballots",
            None,
            expected=f"{len(ballots) - len(voided)} tags (ballots less voids)",
            got=tags,
        )
    checked = now.isoformat(timespec="seconds") if now else None
    return ChainReport(expected - 1, len(ballots), len(voided), last[1] if last else None, checked)
