"""Publish the audit folder and the public part, recompute a tally from a folder, and purge.

The audit folder holds every bundle (each stand's voting order), so it goes to designated
auditors only; the public part holds the result, counts and counted receipt codes
(docs/threat-model.md).
"""

import json
import os
from pathlib import Path

from . import crypto, dedup
from .bundle import verify_bundle
from .canonical import canonical_bytes, parse_canonical
from .election import read_package
from .enroll import read_revocations
from .errors import ConflictError, KeyFileError, TallyError
from .groups import (
    CENTRAL_KEY,
    adjudication_bodies,
    adjudication_bytes,
    central_key,
    current_groups,
    groups_bytes,
    held_message,
    refresh_groups,
    signer_public,
    signing_key,
)
from .results import collect, compute, counted_ballots, resolve_all, tally_json

SIGNER_FILE = "central-signing.pub"


def central_result(central, *, now, refresh=True):
    """The central's tally dict (after opening new tags and re-signing the groups)."""
    store, election = central.store, central.election
    # The accepted records are read once (at 1,000,000 ballots, each reading is seconds).
    collected = collect(central.records(ordered=False))
    if refresh and not store.meta("purged"):
        body = refresh_groups(
            store, election, central_key(central.home), signing_key(central.home), now=now,
            exclude=central.revoked, collected=collected,
        )  # fmt: skip
    else:
        body = current_groups(store, election)
    adjudications = adjudication_bodies(store, election)
    return compute(election, collected=collected, groups=body, adjudications=adjudications)


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def publish(central, out, *, now):
    """Write the audit folder to `out` (must be empty or new); return the tally dict."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ConflictError("the output folder is not empty", where=str(out))
    result = central_result(central, now=now)
    store = central.store
    _write(out / "election.urne", central.election.bytes)
    rev = central.home / "revocations.urne"
    if rev.exists():
        _write(out / "revocations.urne", rev.read_bytes())
    # A revoked device's ballots do not count, and its bundles would not verify: leave them out.
    for device, epoch, cert in store.conn.execute("SELECT device, epoch, certificate FROM devices"):
        if (device, epoch) not in central.revoked:
            _write(out / "certificates" / f"{device}-e{epoch}.json", bytes(cert))
    for (device, epoch), path in store.bundle_paths():
        if (device, epoch) not in central.revoked:
            _write(out / "bundles" / path.name, path.read_bytes())
    groups = groups_bytes(store)
    if groups is not None:
        _write(out / "groups.json", groups)
    for data in adjudication_bytes(store):
        body = dedup.read_adjudication(data, central.election.id)
        _write(out / "adjudications" / f"{body['group']}.json", data)
    _write(out / SIGNER_FILE, (signer_public(central.home).hex() + "\n").encode())
    _write(out / "tally.json", tally_json(result))
    return result


def publish_public(central, out, *, now):
    """Write only what everyone may see: result, counts per stand and channel, receipt codes."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    store, election = central.store, central.election
    result = central_result(central, now=now)
    groups = current_groups(store, election)
    ballots, voided, res = resolve_all(
        election,
        central.records(),
        groups=groups,
        adjudications=adjudication_bodies(store, election),
    )
    counted = counted_ballots(ballots, voided, res)
    counts = {}
    for b in counted:
        stand = counts.setdefault(b.device, {})
        stand[b.channel] = stand.get(b.channel, 0) + 1
    codes = dict(store.conn.execute("SELECT ballot, code FROM receipts"))
    missing = [b.id for b in counted if b.id not in codes]
    if missing:
        raise KeyFileError("receipt codes missing; tally before purging", got=len(missing))
    _write(out / "result.json", tally_json(result))
    _write(out / "counts.json", canonical_bytes({"stands": counts}) + b"\n")
    _write(
        out / "receipts.txt",
        "".join(f"{c}\n" for c in sorted(codes[b.id] for b in counted)).encode(),
    )
    return result


def recompute_tally(published_dir, *, revocations=None):
    """Recompute the tally from an audit folder alone (every signature checked); the tally dict.

    Raises the verification error of the first thing that does not verify, or ConflictError
    when two bundles disagree about a record.
    """
    folder = Path(published_dir)
    election = read_package((folder / "election.urne").read_bytes())
    if revocations is None and (folder / "revocations.urne").exists():
        revocations = read_revocations((folder / "revocations.urne").read_bytes(), election)
    accepted = {}
    for path in sorted((folder / "bundles").glob("*.urne")):
        bundle = verify_bundle(path, election, revocations)
        for r in bundle.records:
            key = (bundle.device, bundle.epoch, r.seq)
            if accepted.setdefault(key, (r.hash, r.body))[0] != r.hash:
                raise ConflictError("two bundles disagree (fork)", where=f"{path.name} seq {r.seq}")
    signer = crypto.from_hex((folder / SIGNER_FILE).read_text().strip(), size=32, where=SIGNER_FILE)
    groups = None
    if (folder / "groups.json").exists():
        groups, _ = dedup.read_groups(
            (folder / "groups.json").read_bytes(), election.id, key=signer
        )
    adjudications = [
        dedup.read_adjudication(p.read_bytes(), election.id, key=signer, where=p.name)
        for p in sorted((folder / "adjudications").glob("*.json"))
    ]
    records = ((d, e, s, body) for (d, e, s), (_, body) in accepted.items())
    return compute(election, records, groups=groups, adjudications=adjudications)


def verify_published(published_dir):
    """Recompute the tally of an audit folder and require it to equal its tally.json."""
    folder = Path(published_dir)
    result = recompute_tally(folder)
    stated = parse_canonical((folder / "tally.json").read_bytes().rstrip(b"\n"), where="tally.json")
    if stated != result:
        raise TallyError(
            "the recomputed tally differs from tally.json", where=str(folder / "tally.json")
        )
    return result


def purge(central, *, now, force=False, warn=None):
    """Destroy what could identify a voter; return the list of what was removed.

    Refuses (TallyError) while duplicate groups are held, since the result is not final yet;
    `force` purges anyway and passes the warning to `warn`.
    """
    store = central.store
    removed = []
    key_path = central.home / CENTRAL_KEY
    if not store.meta("purged"):
        # Make the groups final while the key still exists: the tally relies on them afterwards.
        result = central_result(central, now=now)
        held = held_message(len(result["groups"]["held"]), result["ballots"]["held"])
        if result["groups"]["held"] and not force:
            raise TallyError(
                "duplicate groups are still held, the result is not final",
                where="purge",
                expected="every group decided",
                got=f"{held}; or pass --force to purge anyway",
            )
        if result["groups"]["held"] and warn:
            warn(f"purging while {held}")
    n_tags = store.conn.execute("SELECT count(*) FROM tags").fetchone()[0]
    n_online = store.conn.execute("SELECT count(*) FROM online").fetchone()[0]
    with store.write() as c:
        c.execute("DELETE FROM tags")
        c.execute("DELETE FROM online")
        c.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('purged', ?)", (json.dumps(True),)
        )
    # Deleted rows linger in free pages and the WAL: rewrite the file so they are really gone.
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.conn.execute("VACUUM")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    removed.append(f"{n_tags} opened voter tags (table tags)")
    removed.append(f"{n_online} online voters' tags and times (table online)")
    if key_path.exists():
        _shred(key_path)
        removed.append(f"the central's tag-opening key ({CENTRAL_KEY})")
    return removed


def _shred(path):
    # Overwrite before unlinking: a best effort on flash storage, still better than unlink alone.
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.write(os.urandom(size))
        f.flush()
        os.fsync(f.fileno())
    path.unlink()
