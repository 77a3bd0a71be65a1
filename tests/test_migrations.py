"""Schema migrations: applied in order, idempotent, never losing stored rows."""

import sqlite3

import pytest
from sqlite_utils import Database

from kiosk.errors import StoreCorrupt
from kiosk.migrations import LATEST, migrate, schema_version

HASH = "ab" * 32


def _db(path):
    return Database(sqlite3.connect(path))


def test_fresh_database_reaches_the_latest_version(tmp_path):
    db = _db(tmp_path / "k.db")
    assert migrate(db) == (0, LATEST)
    assert {"meta", "records", "head", "voter_tags", "exports", "pin_state"} <= set(
        db.table_names()
    )
    assert migrate(db) == (LATEST, LATEST)


def test_upgrading_an_existing_database_keeps_its_ballots(tmp_path):
    path = tmp_path / "k.db"
    db = _db(path)
    migrate(db, upto=1)
    assert schema_version(db) == 1
    with db.conn:
        db.conn.execute(
            "INSERT INTO records VALUES (1, 'ballot', ?, ?, ?, ?, 'b1', '2026-05-01')",
            (HASH, "00" * 32, b"{}", b"s" * 64),
        )
        db.conn.execute("INSERT INTO head VALUES (1, 1, ?)", (HASH,))
        db.conn.execute("INSERT INTO voter_tags VALUES (?)", (b"t" * 32,))
    db.close()

    db = _db(path)
    assert migrate(db) == (1, LATEST)
    assert db.execute("SELECT seq, hash, body FROM records").fetchall() == [(1, HASH, b"{}")]
    assert db.execute("SELECT count(*) FROM voter_tags").fetchone()[0] == 1
    assert db.execute("SELECT failures FROM pin_state").fetchone()[0] == 0


def test_a_failing_migration_leaves_the_previous_version_whole(tmp_path, monkeypatch):
    import kiosk.migrations as m

    db = _db(tmp_path / "k.db")
    migrate(db, upto=1)
    broken = (*m.MIGRATIONS[:1], (2, "broken", "CREATE TABLE exports (x);\nCREATE TABLE meta (y);"))
    monkeypatch.setattr(m, "MIGRATIONS", broken)
    with pytest.raises(sqlite3.OperationalError, match="already exists"):
        m.migrate(db)
    assert schema_version(db) == 1
    assert "exports" not in db.table_names()


def test_a_database_from_a_newer_urne_is_refused(tmp_path):
    db = _db(tmp_path / "k.db")
    db.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(StoreCorrupt, match="newer version"):
        migrate(db)


def test_records_are_append_only(tmp_path):
    db = _db(tmp_path / "k.db")
    migrate(db)
    with db.conn:
        db.conn.execute(
            "INSERT INTO records VALUES (1, 'ballot', ?, ?, ?, ?, 'b1', '2026-05-01')",
            (HASH, "00" * 32, b"{}", b"s" * 64),
        )
    for sql in ("UPDATE records SET body = x'00'", "DELETE FROM records"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"), db.conn:
            db.conn.execute(sql)
    assert db.execute("SELECT body FROM records").fetchone()[0] == b"{}"


def test_a_kiosk_written_by_the_first_schema_opens_upgraded_with_its_ballots(
    kiosk_store, store_home
):
    from fixtures_kiosk import KIOSK_NOW, demo_selections, resident

    from kiosk.store import KioskStore

    receipt = kiosk_store.cast(demo_selections(kiosk_store), identity=resident(1), lang="fr",
                               now=KIOSK_NOW, clock="agent")  # fmt: skip
    kiosk_store.close()
    # Bring the database back to what version 1 of the schema wrote.
    conn = sqlite3.connect(store_home / "kiosk.db")
    with conn:
        conn.execute("DROP TABLE exports")
        conn.execute("DROP TABLE pin_state")
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    store = KioskStore.open(store_home, now=KIOSK_NOW)
    try:
        assert schema_version(store.db) == LATEST
        assert store.chain.ballots == 1 and store.chain.head == receipt.hash
        assert store.session().open
    finally:
        store.close()
