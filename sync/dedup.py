"""Duplicate voters: group ballots by voter tag, apply the policy, sign groups and adjudications.

Everything here is pure: it takes ballot ids, tags, order keys and decisions, and returns
decisions. The central (sync/central.py) feeds it from its database; the audit feeds it from a
published folder. The exact order and the policies are specified in docs/duplicates.md.
"""

from dataclasses import dataclass

from . import crypto
from .canonical import canonical_bytes, parse_canonical
from .errors import ConflictError, RecordError, SignatureError

POLICIES = ("hold", "earliest", "latest", "paper-wins")
ONLINE_PREFIX = "online:"
CHANNELS = ("kiosk", "paper", "online")
MAX_REASON = 500


@dataclass(frozen=True)
class Member:
    """One vote of a group: its id, channel and position in the deterministic order."""

    id: str
    channel: str
    order: tuple


@dataclass(frozen=True)
class Resolution:
    """What the policy and the adjudications make of every group."""

    counted: frozenset  # ballot ids kept by a decision (a policy or an organiser)
    excluded: frozenset  # ids set aside as duplicates (ballots and online votes)
    held: frozenset  # ids of groups still waiting for an organiser
    held_groups: tuple  # group ids still waiting
    cancel_online: tuple  # online vote ids the platform must cancel, sorted


def group_id(member_ids):
    """Content address of a group: digest of its sorted member ids."""
    return crypto.digest("urne/1/groups", canonical_bytes(sorted(member_ids)))


def build_groups(tagged):
    """Sorted groups (each a sorted list of ids) of the ids that share a tag, two or more each."""
    by_tag = {}
    for member_id, tag in tagged:
        by_tag.setdefault(bytes(tag), []).append(member_id)
    groups = [sorted(ids) for ids in by_tag.values() if len(ids) > 1]
    return sorted(groups)


def decide(policy, members):
    """The id a policy keeps in one group, or None when the group is held for an organiser."""
    if policy not in POLICIES:
        raise RecordError("unknown duplicate policy", expected="/".join(POLICIES), got=policy)
    ordered = sorted(members, key=lambda m: (m.order, m.id))
    if policy == "earliest":
        return ordered[0].id
    if policy == "latest":
        return ordered[-1].id
    if policy == "paper-wins":
        paper = [m for m in ordered if m.channel == "paper"]
        # Exactly one paper ballot decides; none or several leave a real doubt for a person.
        return paper[0].id if len(paper) == 1 else None
    return None


def resolve(policy, groups, members, adjudications):
    """Apply the policy to every group, then the organisers' decisions to the held ones.

    `groups`: lists of ids; `members`: id -> Member; `adjudications`: group id -> kept ids.
    """
    counted, excluded, held, held_groups = set(), set(), set(), []
    for ids in groups:
        gid = group_id(ids)
        if gid in adjudications:
            keep = set(adjudications[gid])
        else:
            kept = decide(policy, [members[i] for i in ids])
            if kept is None:
                held.update(ids)
                held_groups.append(gid)
                continue
            keep = {kept}
        counted.update(keep)
        excluded.update(set(ids) - keep)
    cancel = sorted(i[len(ONLINE_PREFIX) :] for i in excluded if i.startswith(ONLINE_PREFIX))
    return Resolution(
        frozenset(counted),
        frozenset(excluded),
        frozenset(held),
        tuple(sorted(held_groups)),
        tuple(cancel),
    )


# Signed documents ---------------------------------------------------------------------------


def _envelope(key, domain, body):
    signature = crypto.sign(key, domain, canonical_bytes(body))
    return canonical_bytes(
        {"body": body, "key": crypto.public_bytes(key).hex(), "signature": signature.hex()}
    )


def _open(data, domain, kind, *, key=None, where):
    doc = parse_canonical(bytes(data), where=where, max_bytes=256 << 20)
    if not isinstance(doc, dict) or set(doc) != {"body", "key", "signature"}:
        raise RecordError(f"not a signed {kind}", where=where, expected="{body, key, signature}")
    signer = crypto.from_hex(doc["key"], size=32, where=f"{where}.key")
    if key is not None and signer != bytes(key):
        raise SignatureError(
            f"{kind} signed by another key",
            where=f"{where}.key",
            expected=crypto.fingerprint(key),
            got=crypto.fingerprint(signer),
        )
    signature = crypto.from_hex(doc["signature"], size=64, where=f"{where}.signature")
    crypto.verify(signer, domain, canonical_bytes(doc["body"]), signature, where=where)
    body = doc["body"]
    if not isinstance(body, dict) or body.get("type") != kind:
        raise RecordError(f"not a {kind}", where=f"{where}.body.type", expected=kind)
    return body, signer


def groups_document(key, election_id, policy, groups, online):
    """The central's signed list of duplicate groups (ids only, never a tag).

    `online`: online vote id (with its prefix) -> coarse time, for the online members.
    """
    body = {
        "type": "groups",
        "election": election_id,
        "policy": policy,
        "groups": [{"id": group_id(ids), "members": sorted(ids)} for ids in sorted(groups)],
        "online": [{"id": i, "time": online[i]} for i in sorted(online)],
    }
    return _envelope(key, "urne/1/groups", body)


def read_groups(data, election_id, *, key=None, where="groups"):
    """Verify a signed groups document; return (body, signer public key)."""
    body, signer = _open(data, "urne/1/groups", "groups", key=key, where=where)
    if body.get("election") != election_id:
        raise RecordError(
            "groups of another election",
            where=f"{where}.election",
            expected=election_id,
            got=body.get("election"),
        )
    if body.get("policy") not in POLICIES:
        raise RecordError("unknown policy", where=f"{where}.policy", got=body.get("policy"))
    for i, g in enumerate(body.get("groups", [])):
        if not isinstance(g, dict) or group_id(g.get("members", [])) != g.get("id"):
            raise RecordError("group id does not match its members", where=f"{where}.groups[{i}]")
    return body, signer


def adjudication(key, election_id, members, keep, *, reason, by, time):
    """An organiser's signed decision on one held group: which ids count (none or one)."""
    members = sorted(members)
    keep = sorted(keep)
    _check_keep(members, keep, "adjudication")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise RecordError("a decision needs a reason", where="reason", expected="1..500 chars")
    body = {
        "type": "adjudication",
        "election": election_id,
        "group": group_id(members),
        "members": members,
        "keep": keep,
        "reason": reason.strip(),
        "by": by,
        "time": time,
    }
    return _envelope(key, "urne/1/adjudication", body)


def _check_keep(members, keep, where):
    if len(keep) > 1:
        raise RecordError(
            "one resident, one vote", where=f"{where}.keep", expected="0 or 1 id", got=len(keep)
        )
    for k in keep:
        if k not in members:
            raise RecordError("kept id is not in the group", where=f"{where}.keep", got=k)


def read_adjudication(data, election_id, *, key=None, where="adjudication"):
    """Verify a signed adjudication; return its body."""
    body, _ = _open(data, "urne/1/adjudication", "adjudication", key=key, where=where)
    if body.get("election") != election_id:
        raise RecordError("adjudication of another election", where=f"{where}.election")
    members = body.get("members")
    if not isinstance(members, list) or group_id(members) != body.get("group"):
        raise RecordError("group id does not match its members", where=f"{where}.group")
    _check_keep(members, body.get("keep") or [], where)
    return body


def decisions(bodies):
    """Group id -> kept ids from adjudication bodies; two different decisions on a group conflict."""
    out = {}
    for body in bodies:
        gid, keep = body["group"], tuple(body["keep"])
        if gid in out and out[gid] != keep:
            raise ConflictError("two different decisions on one group", where=gid)
        out[gid] = keep
    return out
