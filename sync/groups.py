"""The central's side of duplicate voters: open tags, sign the groups, record adjudications."""

import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from . import dedup
from .central import select_in
from .crypto import load_private_key, public_bytes
from .election import open_secret
from .errors import ConflictError, KeyFileError, RecordError
from .results import collect, resolve_all
from .tags import election_keys, open_tag, receipt_code

CENTRAL_KEY = "keys/central.key"  # X25519: opens the election secret and the voter tags
SIGNING_KEY = "keys/signing.key"  # Ed25519: signs groups and adjudications
TAGS_UPTO = "tags_opened_upto"  # meta: every ballot record up to this id has its tag opened
CHUNK = 2000
PARALLEL_FROM = 4000
# Records read, opened and written per step, and the page cache while writing them: the tags
# and receipts are keyed by random values, so each step's inserts touch pages all over their
# indexes. At 1,000,000 ballots: 50,000 and 2 MiB took 99 s, 250,000 and 64 MiB 67 to 81 s
# (one transaction for everything: 117 s, and 1.4 GB for the rows at once).
WINDOW = 250_000
CACHE = -65536  # PRAGMA cache_size: 64 MiB while opening
# The voter's sealed tag read by SQLite: no body comes to Python. Stored bodies are canonical.
_UNOPENED = (
    "SELECT r.ballot, json_extract(CAST(r.body AS TEXT), '$.voter') FROM records r"
    " LEFT JOIN tags t ON t.ballot = r.ballot"
    " WHERE r.id > ? AND r.id <= ? AND r.kind = 'ballot' AND t.ballot IS NULL"
)


def central_key(home):
    """The central's X25519 private key (gone after `urne sync purge`)."""
    path = home / CENTRAL_KEY
    if not path.exists():
        raise KeyFileError(
            "the central's tag-opening key is missing (purged?)",
            where=str(path),
            expected="keys/central.key",
            got="no file",
        )
    return load_private_key(path, kind=X25519PrivateKey)


def signing_key(home):
    """The central's Ed25519 signing key (groups and adjudications)."""
    return load_private_key(home / SIGNING_KEY)


def _raw(private):
    return private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def _open_chunk(args):
    """(ballot, tag, receipt code) of each (ballot, sealed tag) item: the costly part, per core."""
    raw, election_id, receipt_key, items = args
    private = X25519PrivateKey.from_private_bytes(raw)
    return [
        (
            ballot,
            open_tag(private, sealed, election_id, where=ballot),
            receipt_code(receipt_key, ballot),
        )
        for ballot, sealed in items
    ]


def open_tags(store, election, private, *, workers=None):
    """Open the sealed tags (and compute receipt codes) of ballots not opened yet; how many."""
    _, receipt_key = election_keys(open_secret(election, private))  # also checks the key
    # Record ids only grow (records are never deleted): remembering the last id looked at spares
    # a scan of every stored record on each tally (seconds at 1,000,000 ballots).
    upto = int(store.meta(TAGS_UPTO, 0))
    top = store.conn.execute("SELECT coalesce(max(id), 0) FROM records").fetchone()[0]
    if top <= upto:
        return 0
    workers = workers or os.cpu_count() or 1
    parallel = top - upto >= PARALLEL_FROM and workers > 1
    raw, opened, done, pool = _raw(private), 0, None, None
    cache = store.conn.execute("PRAGMA cache_size").fetchone()[0]
    store.conn.execute(f"PRAGMA cache_size = {CACHE}")
    try:
        pool = ProcessPoolExecutor(workers) if parallel else None
        # WINDOW records at a time: the memory stays flat at any size, and an interrupted run
        # keeps the windows it wrote. A window is written while the next one is being opened.
        for start in range(upto, top, WINDOW):
            end = min(start + WINDOW, top)
            items = store.conn.execute(_UNOPENED, (start, end)).fetchall()
            chunks = [
                (raw, election.id, receipt_key, items[i : i + CHUNK])
                for i in range(0, len(items), CHUNK)
            ]
            futures = [pool.submit(_open_chunk, c) for c in chunks] if pool else None
            if done is not None:
                opened += _store_tags(store, *done)
            parts = [f.result() for f in futures] if pool else map(_open_chunk, chunks)
            done = ([row for part in parts for row in part], end)
        if done is not None:
            opened += _store_tags(store, *done)
    finally:
        store.conn.execute(f"PRAGMA cache_size = {int(cache)}")
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return opened


def _store_tags(store, rows, end):
    """Write opened (ballot, tag, code) rows and move the mark up to record `end`; how many."""
    rows.sort()  # in key order: the inserts touch each page of the ballot-keyed tables once
    with store.write() as c:
        c.executemany(
            "INSERT OR IGNORE INTO tags (ballot, tag) VALUES (?, ?)", [r[:2] for r in rows]
        )
        c.executemany(
            "INSERT OR IGNORE INTO receipts (ballot, code) VALUES (?, ?)", [r[::2] for r in rows]
        )
        # Another process may have opened further meanwhile: the mark never goes back.
        row = c.execute("SELECT value FROM meta WHERE key = ?", (TAGS_UPTO,)).fetchone()
        mark = max(end, int(row[0]) if row else 0)
        c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (TAGS_UPTO, str(mark)))
    return len(rows)


def refresh_groups(
    store, election, private, key, *, now, workers=None, exclude=None, collected=None
):
    """Open new tags, rebuild the groups from every tag, sign and store them; the groups body.

    `exclude`: (device, epoch) chains left out (default: the revoked ones). `collected`: what
    results.collect already gave for those records, if at hand (it is not read again).
    """
    if store.meta("purged"):
        return current_groups(store, election)
    open_tags(store, election, private, workers=workers)
    ballots, voided = collected if collected is not None else collect(store.records(exclude))
    online = store.conn.execute("SELECT id, tag, time FROM online").fetchall()
    tagged = [
        (ballot, tag)
        for ballot, tag in _tags_seen_twice(store.conn, [tag for _, tag, _ in online])
        if ballot in ballots and ballot not in voided
    ]
    tagged += [(f"{dedup.ONLINE_PREFIX}{i}", tag) for i, tag, _ in online]
    groups = dedup.build_groups(tagged)
    in_groups = {i for g in groups for i in g}
    online_members = {
        f"{dedup.ONLINE_PREFIX}{i}": t
        for i, _, t in online
        if f"{dedup.ONLINE_PREFIX}{i}" in in_groups
    }
    data = dedup.groups_document(
        key, election.id, election.duplicate_policy, groups, online_members
    )
    with store.write() as c:
        old = c.execute("SELECT data FROM documents WHERE kind = 'groups'").fetchone()
        if old is None or old[0] != data:
            c.execute(
                "INSERT OR REPLACE INTO documents (kind, data, at) VALUES ('groups', ?, ?)",
                (data, _stamp(now)),
            )
    return dedup.read_groups(data, election.id)[0]


def _tags_seen_twice(conn, online):
    """(ballot, tag) of the stored tags that occur twice or more, counting the `online` tags."""
    # Only a tag seen twice can make a group. SQLite finds the repeated ones on the tags_tag
    # index: reading and counting a million tags in Python took a second per tally.
    twice = {
        tag for (tag,) in conn.execute("SELECT tag FROM tags GROUP BY tag HAVING count(*) > 1")
    }
    counts = Counter(online)
    twice.update(tag for tag, n in counts.items() if n > 1)
    known = select_in(conn, "SELECT DISTINCT tag FROM tags WHERE tag IN ({})", list(counts))
    twice.update(tag for (tag,) in known)
    return select_in(conn, "SELECT ballot, tag FROM tags WHERE tag IN ({})", sorted(twice))


def groups_bytes(store):
    """The stored signed groups document, or None before the first refresh."""
    row = store.conn.execute("SELECT data FROM documents WHERE kind = 'groups'").fetchone()
    return bytes(row[0]) if row else None


def current_groups(store, election):
    """The stored groups body (verified), or None."""
    data = groups_bytes(store)
    return dedup.read_groups(data, election.id)[0] if data else None


def adjudication_bytes(store):
    """Every stored adjudication record, by group id."""
    return [bytes(d) for (d,) in store.conn.execute("SELECT data FROM adjudications ORDER BY grp")]


def adjudication_bodies(store, election):
    """The verified bodies of the stored adjudications."""
    return [dedup.read_adjudication(d, election.id) for d in adjudication_bytes(store)]


def adjudicate(store, election, key, group, keep, *, reason, by, now):
    """Record an organiser's signed decision on a held group; return the record's bytes."""
    body = current_groups(store, election)
    found = next((g for g in (body or {}).get("groups", []) if g["id"] == group), None)
    if found is None:
        raise RecordError(
            "no such duplicate group", where="group", expected="a current group id", got=group
        )
    stamp = _stamp(now)
    data = dedup.adjudication(
        key, election.id, found["members"], keep, reason=reason, by=by, time=stamp[:16]
    )
    with store.write() as c:
        if c.execute("SELECT 1 FROM adjudications WHERE grp = ?", (group,)).fetchone():
            raise ConflictError("this group was already decided", where=group)
        c.execute(
            "INSERT INTO adjudications (grp, data, at) VALUES (?, ?, ?)", (group, data, stamp)
        )
    return data


def review(central, *, now):
    """(groups body, held group ids, held ballot count): refreshed first, unless purged.

    After `urne sync purge` the tags cannot be opened any more: the stored signed document is
    listed as it is.
    """
    store, election = central.store, central.election
    if store.meta("purged"):
        body = current_groups(store, election)
    else:
        body = refresh_groups(
            store, election, central_key(central.home), signing_key(central.home), now=now,
            exclude=central.revoked,
        )  # fmt: skip
    if body is None:
        return {"groups": [], "online": [], "policy": election.duplicate_policy}, [], 0
    ballots, _, res = resolve_all(
        election, central.records(), groups=body, adjudications=adjudication_bodies(store, election)
    )
    return body, list(res.held_groups), sum(1 for i in res.held if i in ballots)


def held_message(groups, ballots):
    """What an organiser is told while groups are held: how many, and how to decide them."""
    return (
        f"{groups} group{'s' if groups != 1 else ''} held, {ballots} ballot"
        f"{'s' if ballots != 1 else ''} not counted: decide them with `urne sync adjudicate` "
        "(list: `urne sync groups`) or on the organiser pages"
    )


def signer_public(home):
    """Raw public key of the central's signing key (published so auditors can pin it)."""
    return public_bytes(signing_key(home))


def _stamp(now):
    from .central import _stamp as stamp

    return stamp(now)
