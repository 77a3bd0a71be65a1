"""The published results the public pages show: written when an organiser publishes, read after.

Results are never computed on a public request: live figures during the vote could sway
voters, and the tally opens voter tags (a write). The organiser's "Publier" button runs
`publish_results`, which writes the public folder (sync.publish.publish_public: result.json,
counts.json, receipts.txt), one Pabulib file per section, and `web/snapshot.json` (participation,
tie notes, and the receipt codes by state for the lookup page).
"""

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from sync.canonical import canonical_bytes
from sync.enroll import write_atomic
from sync.groups import adjudication_bodies, current_groups
from sync.publish import publish_public
from sync.results import counted_ballots, resolve_all
from sync.tally.greedy import score_ties
from sync.tally.pabulib import dumps_pb

SNAPSHOT = Path("web") / "snapshot.json"
PUBLISHED = "published"


def _ties(section):
    """rule -> tie notes: the tally's own when it lists them, else the greedy score ties."""
    out = {}
    score = section.get("score") or section["votes"]
    for r in section.get("results", []):
        if "ties" in r:
            ties = r["ties"]
        elif r["rule"].startswith("greedy"):
            ties = score_ties(sorted(score), score, set(r["selected"]))
        else:
            ties = []
        if ties:
            out[r["rule"]] = ties
    return out


def _pb(election, section, result, selections, now):
    """A Pabulib file of one section: its projects, the counted ballots and the first rule."""
    projects = [
        {
            "id": p["id"],
            "cost": p["cost"],
            "name": election.text(p["title"], "fr"),
            "category": p.get("category") or "",
            "canton": p.get("canton") or "",
        }
        for p in section.projects
    ]
    outcome = SimpleNamespace(
        rule=result["rule"], budget=result["budget"], selected=result["selected"],
        votes=result["votes"], score=result.get("score") or result["votes"],
    )  # fmt: skip
    meta = {
        "description": f"{election.text(election.title, 'fr')} — {election.text(section.title, 'fr')}",
        "country": "France",
        "unit": election.body.get("slug", ""),
        "instance": section.id,
        "date_begin": election.body["window"]["opens"],
        "date_end": election.body["window"]["closes"],
        "language": "fr",
        "currency": election.body.get("currency", "EUR"),
    }
    return dumps_pb(meta, projects, selections, ballot_type=section.ballot["type"], outcome=outcome)


def publish_results(central, *, now):
    """Tally, write the public folder and the pages' snapshot; return the snapshot dict."""
    home, store, election = central.home, central.store, central.election
    out = home / PUBLISHED
    result = publish_public(central, out, now=now)
    groups = current_groups(store, election)
    ballots, voided, res = resolve_all(
        election, store.records(), groups=groups, adjudications=adjudication_bodies(store, election)
    )
    counted = counted_ballots(ballots, voided, res)
    for section, sec_result in zip(election.sections, result["sections"], strict=True):
        selections = [b.selections[section.id] for b in counted]
        text = _pb(election, section, sec_result, selections, now)
        write_atomic(out / f"{section.id}.pb", text.encode("utf-8"), replace=True)
    codes = dict(store.conn.execute("SELECT ballot, code FROM receipts"))
    counted_ids = {b.id for b in counted}
    held_ids = {i for i in res.held if i in ballots}
    other_ids = set(ballots) - counted_ids - held_ids
    snapshot = {
        "published_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "result": result,
        "participation": {
            "channels": dict(Counter(b.channel for b in counted)),
            "stands": dict(Counter(b.device for b in counted)),
            "days": dict(Counter(b.order[0][:10] for b in counted)),
        },
        "ties": {s["id"]: _ties(s) for s in result["sections"]},
        "lookup": {
            name: sorted(codes[i] for i in ids if i in codes)
            for name, ids in (("counted", counted_ids), ("held", held_ids), ("other", other_ids))
        },
    }
    write_atomic(home / SNAPSHOT, canonical_bytes(snapshot) + b"\n", replace=True)
    return snapshot


@dataclass
class Snapshot:
    """A loaded snapshot with the lookup sets ready."""

    data: dict
    counted: frozenset
    held: frozenset
    other: frozenset


_cache = {}


def load_snapshot(home):
    """The published snapshot of this central (re-read when the file changes), or None."""
    path = Path(home) / SNAPSHOT
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    key = str(path)
    if key not in _cache or _cache[key][0] != stamp:
        data = json.loads(path.read_bytes())
        lookup = data.pop("lookup")
        snap = Snapshot(data, *(frozenset(lookup[k]) for k in ("counted", "held", "other")))
        _cache[key] = (stamp, snap)
    return _cache[key][1]


def receipt_state(home, store, code):
    """ "counted", "held" (pending review, or received after the last publication) or "unknown"."""
    snap = load_snapshot(home)
    if snap is not None and code in snap.counted:
        return "counted"
    if snap is not None and code in snap.other:
        # Voided at the stand or set aside as a duplicate: not counted, and nothing pending.
        return "unknown"
    row = store.conn.execute("SELECT 1 FROM receipts WHERE code = ? LIMIT 1", (code,)).fetchone()
    return "held" if row is not None else "unknown"
