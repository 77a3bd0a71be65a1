"""Export to a drive: an atomic bundle, read back and verified, plus a copy of the database."""

import os
import sqlite3
from pathlib import Path

from sync.bundle import verify_bundle, write_bundle
from sync.errors import UrneError

from .errors import ExportError, NothingToExport


def bundle_name(device, epoch, first, last):
    """The bundle's file name: device, epoch and seq range (sorts in chain order)."""
    return f"{device}-e{epoch}-{first:07d}-{last:07d}.urne"


def _destination(dest_dir):
    dest = Path(dest_dir)
    if not dest.is_dir():
        raise ExportError("the destination is not a folder", where=str(dest))
    if not os.access(dest, os.W_OK | os.X_OK):
        raise ExportError("the destination is not writable", where=str(dest))
    return dest


def backup_database(db, path):
    """Copy a live database with SQLite's online backup: temporary file, fsync, rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        target = sqlite3.connect(tmp)
        try:
            db.conn.backup(target)
            # The copy must stand alone on the drive: fold its WAL back into the main file.
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def export(store, dest_dir, *, whole=False, now):
    """Write, read back and verify one bundle, copy the database, record it; (path, count, head)."""
    dest = _destination(dest_dir)
    conn = store.db.conn
    head = conn.execute("SELECT seq, hash FROM head").fetchone()
    if head is None:
        raise NothingToExport("nothing to export: no record yet")
    last_export = conn.execute("SELECT max(last) FROM exports").fetchone()[0] or 0
    first = 1 if whole else last_export + 1
    if first > head[0]:
        raise NothingToExport(
            "nothing new since the last export (use --all for everything)",
            expected=f"records after {last_export}",
            got="none",
        )
    path = dest / bundle_name(store.device, store.epoch, first, head[0])
    try:
        write_bundle(
            path,
            certificate_bytes=store.certificate.bytes,
            records=((row[1], row[2]) for row in store.rows(first, head[0])),
            device_key=store.device_key,
            now=store.local(now),
            cumulative=whole,
        )
        verified = verify_bundle(path, store.election, store.revocations, keep_records=False)
    except OSError as exc:
        raise ExportError(f"the bundle could not be written ({exc})", where=str(path)) from exc
    except UrneError as exc:
        raise ExportError(f"the bundle read back does not verify: {exc}", where=str(path)) from exc
    if (verified.first, verified.last, verified.head) != (first, head[0], head[1]):
        raise ExportError(
            "the bundle read back is not what was stored",
            where=str(path),
            expected=(first, head[0], head[1]),
            got=(verified.first, verified.last, verified.head),
        )
    try:
        backup_database(store.db, dest / f"{store.device}-e{store.epoch}-kiosk.db")
    except (OSError, sqlite3.Error) as exc:
        raise ExportError(f"the database copy failed ({exc})", where=str(dest)) from exc
    with conn:
        conn.execute(
            "INSERT INTO exports (at, path, first, last, count, head, sha256, whole) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                store.local(now).isoformat(timespec="seconds"),
                str(path),
                first,
                head[0],
                verified.count,
                head[1],
                verified.hash,
                int(whole),
            ),
        )
    return path, verified.count, head[1]
