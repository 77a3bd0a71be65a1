"""The stand's status for the agent, and the one-shot library calls behind `urne kiosk ...`."""

import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .verify import ChainReport


@dataclass(frozen=True)
class Status:
    """What the agent's status screen shows (chain: the check made when the store opened)."""

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
    session: object


def build_status(store, now):
    """The Status of an open store at `now` (call it under the store's lock)."""
    local = store.local(now)
    q = store.db.conn.execute
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
    keys = ("at", "path", "first", "last", "count", "head")
    return Status(
        ballots_today=today,
        ballots_total=count["ballot"],
        voids_total=count["void"],
        device=store.device,
        epoch=store.epoch,
        fingerprint=store.certificate.fingerprint,
        election=store.election.id,
        head=head[1] if head else None,
        records=head[0] if head else 0,
        last_export=dict(zip(keys, last, strict=True)) if last else None,
        free_disk=shutil.disk_usage(store.home).free,
        clock=local.isoformat(timespec="seconds"),
        chain=store.chain,
        session=store.session(),
    )


def check_is_stale(status):
    """Whether the last chain check missed records stored since, or has no time to show."""
    chain = status.chain
    return chain is None or chain.checked_at is None or chain.records != status.records


def checked_local(store, chain):
    """When the last chain check ran, in the stand's time zone (YYYY-MM-DD HH:MM), or None."""
    if chain is None or chain.checked_at is None:
        return None
    return store.local(datetime.fromisoformat(chain.checked_at)).strftime("%Y-%m-%d %H:%M")


@contextmanager
def opened(home, *, now):
    """A KioskStore open (and so fully checked) for the duration of a block."""
    from .store import KioskStore

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
