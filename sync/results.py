"""The central's tally: accepted records -> counted ballots -> each section's rule.

A pure function of the set of accepted records, the signed duplicate groups and the organisers'
decisions: nothing depends on import order or time, and the JSON is canonical, so the same
accepted ballots always give byte-identical output (docs/duplicates.md, docs/format.md).
"""

import json
from dataclasses import dataclass

from . import dedup
from .canonical import canonical_bytes
from .errors import TallyError

ONLINE_DEVICE = "~online"  # sorts after every device name ([a-z0-9-]) at the same quarter hour


@dataclass(frozen=True)
class Ballot:
    """One accepted ballot record, with its place in the deterministic order."""

    id: str
    device: str
    epoch: int
    seq: int
    channel: str
    selections: dict
    order: tuple


def quarter(time):
    """A record time "YYYY-MM-DDTHH:MM" rounded down to the quarter hour."""
    return f"{time[:14]}{int(time[14:16]) // 15 * 15:02d}"


def collect(records):
    """(ballots by id, voided ids) from (device, epoch, seq, body) tuples in any order.

    A ballot's order key is (effective time, device, epoch, seq), where the effective time is
    the latest quarter hour claimed by any record up to it on its own chain: a clock that jumps
    back (a reboot without a real-time clock) cannot move a ballot before an earlier one of the
    same device, and a session opened at an agent-confirmed time lifts a clock that lagged.
    """
    chains = {}
    for device, epoch, seq, body in records:
        if isinstance(body, (bytes, bytearray, memoryview)):
            # Already verified and canonical at import: plain json is enough (and fast).
            body = json.loads(bytes(body))
        chains.setdefault((device, epoch), []).append((seq, body))
    ballots, voids = {}, []
    for (device, epoch), chain in sorted(chains.items()):
        chain.sort(key=lambda item: item[0])
        running = ""
        for seq, body in chain:
            running = max(running, quarter(body["time"]))
            kind = body["type"]
            if kind == "ballot":
                ballots[body["ballot"]] = Ballot(
                    body["ballot"],
                    device,
                    epoch,
                    seq,
                    body["channel"],
                    body["selections"],
                    (running, device, epoch, seq),
                )
            elif kind == "void":
                voids.append((device, epoch, seq, body["ballot"]))
    voided = set()
    for device, epoch, seq, target in voids:
        b = ballots.get(target)
        # A void only ever cancels an earlier ballot of its own chain.
        if b is not None and (b.device, b.epoch) == (device, epoch) and b.seq < seq:
            voided.add(target)
    return ballots, voided


def members_of(groups_body, ballots, voided):
    """id -> dedup.Member for every member of the signed groups; raise on a stale document."""
    members = {}
    online = {o["id"]: o["time"] for o in groups_body.get("online", [])}
    for g in groups_body["groups"]:
        for i in g["members"]:
            if i in online:
                members[i] = dedup.Member(i, "online", (quarter(online[i]), ONLINE_DEVICE, 0, 0))
            elif i in ballots and i not in voided:
                b = ballots[i]
                members[i] = dedup.Member(i, b.channel, b.order)
            else:
                raise TallyError(
                    "the duplicate groups name a ballot that is not counted here",
                    where=f"groups.{g['id']}",
                    expected="an accepted, not voided ballot",
                    got=i,
                )
    return members


def resolve_all(election, records, *, groups=None, adjudications=()):
    """(ballots, voided ids, dedup.Resolution) of the accepted records."""
    ballots, voided = collect(records)
    policy = election.duplicate_policy
    groups = groups or {"groups": [], "online": [], "policy": policy}
    if groups.get("policy") != policy:
        raise TallyError("groups made under another policy", expected=policy, got=groups["policy"])
    members = members_of(groups, ballots, voided)
    resolution = dedup.resolve(
        policy, [g["members"] for g in groups["groups"]], members, dedup.decisions(adjudications)
    )
    return ballots, voided, resolution


def counted_ballots(ballots, voided, resolution):
    """The counted ballots, in id order."""
    skip = voided | resolution.excluded | resolution.held
    return [ballots[i] for i in sorted(ballots) if i not in skip]


def compute(election, records, *, groups=None, adjudications=()):
    """The tally as a plain dict (see `urne sync tally --json`)."""
    ballots, voided, resolution = resolve_all(
        election, records, groups=groups, adjudications=adjudications
    )
    counted = counted_ballots(ballots, voided, resolution)
    sections = [_section(s, counted) for s in election.sections]
    not_online = [i for i in resolution.excluded if not i.startswith(dedup.ONLINE_PREFIX)]
    return {
        "election": election.id,
        "policy": election.duplicate_policy,
        "sections": sections,
        "ballots": {
            "counted": len(counted),
            "held": sum(1 for i in resolution.held if i in ballots),
            "voided": len(voided),
            "excluded": len(not_online),
        },
        "groups": {
            "held": list(resolution.held_groups),
            "total": len(groups["groups"]) if groups else 0,
        },
        "cancel_online": list(resolution.cancel_online),
    }


def _section(section, counted):
    votes = {p["id"]: 0 for p in section.projects}
    score = {p["id"]: 0 for p in section.projects}
    profile = []
    for b in counted:
        selection = b.selections[section.id]
        points = section.scores(selection)
        for pid, n in points.items():
            votes[pid] += 1
            score[pid] += n
        profile.append(selection)
    rules = section.tally["rules"]
    outcomes = [_run(section, rule, profile) for rule in rules]
    first = outcomes[0]
    out = {
        "id": section.id,
        "rule": rules[0],
        "budget": section.budget,
        "spent": first["spent"],
        "selected": first["selected"],
        "votes": votes,
        "ballot_type": section.ballot["type"],
        "results": outcomes,
    }
    if section.ballot["type"] in ("cumulative", "ranked"):
        out["score"] = score
    return out


def _run(section, rule, selections):
    """One rule over the section's counted selections, through the tally package (sync/tally/)."""
    from .tally import run_section

    outcome = run_section(section, rule, selections).to_json()
    return {
        "rule": rule,
        "selected": outcome["selected"],
        "spent": outcome["spent"],
        "ties": outcome["ties"],
        "details": outcome["details"],  # which stage funded what (envelopes, per canton, MES)
    }


def tally_json(result):
    """The canonical bytes of a tally (byte-identical for the same accepted ballots)."""
    return canonical_bytes(result) + b"\n"


def turnout(records):
    """Ballots not voided per stand, per channel, per day and per hour (claimed quarter-hour times)."""
    ballots, voided = collect(records)
    out = {"stand": {}, "channel": {}, "day": {}, "hour": {}}
    for b in ballots.values():
        if b.id in voided:
            continue
        time = b.order[0]
        for key, value in (
            ("stand", b.device),
            ("channel", b.channel),
            ("day", time[:10]),
            ("hour", time[:13]),
        ):
            out[key][value] = out[key].get(value, 0) + 1
    return out
