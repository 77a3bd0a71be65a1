"""Export: atomic bundles read back and verified, incremental by default, a database copy."""

import sqlite3

import pytest
from fixtures_kiosk import KIOSK_NOW, demo_selections, resident

from kiosk.errors import ExportError, NothingToExport
from sync.bundle import verify_bundle


def _cast(store, n):
    return store.cast(demo_selections(store, n), identity=resident(n), lang="fr", now=KIOSK_NOW,
                      clock="agent")  # fmt: skip


def test_incremental_exports_follow_each_other_and_verify(kiosk_store, tmp_path):
    drive = tmp_path / "usb"
    drive.mkdir()
    for n in range(3):
        _cast(kiosk_store, n)
    path, count, head = kiosk_store.export(drive, now=KIOSK_NOW)
    assert count == 4 and path.parent == drive  # session_open + 3 ballots
    first = verify_bundle(path, kiosk_store.election)
    assert (first.first, first.last, first.head) == (1, 4, head)
    with pytest.raises(NothingToExport):
        kiosk_store.export(drive, now=KIOSK_NOW)
    receipt = _cast(kiosk_store, 9)
    path2, count2, head2 = kiosk_store.export(drive, now=KIOSK_NOW)
    second = verify_bundle(path2, kiosk_store.election)
    assert (second.first, second.last, count2, head2) == (5, 5, 1, receipt.hash)
    whole, count3, _ = kiosk_store.export(drive, all=True, now=KIOSK_NOW)
    assert count3 == 5 and verify_bundle(whole, kiosk_store.election).cumulative
    assert kiosk_store.status(KIOSK_NOW).last_export["last"] == 5
    assert not list(drive.glob(".*"))  # no temporary file left behind


def test_the_database_copy_on_the_drive_is_whole(kiosk_store, tmp_path):
    for n in range(5):
        _cast(kiosk_store, n)
    kiosk_store.export(tmp_path, now=KIOSK_NOW)
    copy = sqlite3.connect(tmp_path / "demo-1-e1-kiosk.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT count(*) FROM records").fetchone()[0] == 6
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not (tmp_path / "demo-1-e1-kiosk.db-wal").exists()


def test_an_unwritable_destination_changes_nothing(kiosk_store, tmp_path):
    _cast(kiosk_store, 1)
    with pytest.raises(ExportError, match="not a folder"):
        kiosk_store.export(tmp_path / "missing", now=KIOSK_NOW)
    assert kiosk_store.status(KIOSK_NOW).last_export is None


def test_nothing_to_export_on_an_empty_chain(store_home, tmp_path):
    from kiosk.store import KioskStore

    store = KioskStore.open(store_home, now=KIOSK_NOW)
    try:
        with pytest.raises(NothingToExport, match="no record"):
            store.export(tmp_path, now=KIOSK_NOW)
    finally:
        store.close()
