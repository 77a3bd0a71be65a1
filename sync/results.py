"""The central's tally: accepted records -> counted ballots -> each section's rule.

A pure function of the set of accepted records, the signed duplicate groups and the organisers'
decisions: nothing depends on import order or time, and the JSON is canonical, so the same
accepted ballots always give byte-identical output (docs/duplicates.md, docs/format.md).
"""

import json
from collections import Counter
from itertools import chain as concat
from itertools import repeat
from operator import itemgetter
from typing import NamedTuple

from . import dedup
from .canonical import canonical_bytes
from .errors import TallyError
from .tally.model import gc_paused, group_shared

ONLINE_DEVICE = "~online"  # sorts after every device name ([a-z0-9-]) at the same quarter hour


class Ballot(NamedTuple):
    """One accepted ballot record, with its place in the deterministic order."""

    # A named tuple, not a frozen dataclass: a million of these are built per tally at
    # 1,000,000 ballots, and a frozen dataclass's __init__ costs about three times as much.
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


# A stored ballot body is canonical (checked at import: keys sorted, no spaces), so its fields
# sit at known places: {"ballot":"<32 hex>","channel":"kiosk|paper", ... ,"selections":{...},
# "seq":N,"time":"<16>","type":"ballot","v":1,"voter":"<160 hex>"}. Slicing them out and parsing
# only the selections (once per distinct selections) is several times faster than json.loads;
# any body not laid out so (another record type or version) takes json.loads.
_HEAD, _CHANNEL = b'{"ballot":"', b'","channel":"'
_TAIL = b'","type":"ballot","v":1,"voter":"'  # then 160 hex digits and "}
_TIME = b',"time":"'
_SELECTIONS, _SEQ = b',"selections":', b',"seq":'


def _chains(records):
    """(device, epoch) -> [(seq, kind, time, ballot, channel, selections)] of stored records."""
    chains, parsed = {}, {}
    key = chain = None
    for device, epoch, seq, body in records:
        if (device, epoch) != key:  # records mostly come chain by chain
            key = (device, epoch)
            chain = chains.get(key)
            if chain is None:
                chain = chains[key] = []
        kind = None
        if type(body) is not bytes and isinstance(body, (bytearray, memoryview)):
            body = bytes(body)
        if type(body) is bytes:
            n = len(body)
            if (
                n > 280
                and body.startswith(_HEAD)
                and body.startswith(_CHANNEL, 43)
                and body[61] == 34  # the closing quote of a 5-letter channel
                and body.startswith(_TIME, n - 220)
                and body.startswith(_TAIL, n - 195)
                and body.endswith(b'"}')
            ):
                start = body.find(_SELECTIONS, 56) + len(_SELECTIONS)
                end = body.rfind(_SEQ, 0, n - 220)
                if len(_SELECTIONS) <= start <= end:
                    raw = body[start:end]
                    selections = parsed.get(raw)
                    if selections is None:
                        selections = parsed[raw] = json.loads(raw)
                    kind, ballot = "ballot", body[11:43].decode()
                    channel = "kiosk" if body.startswith(b"kiosk", 56) else body[56:61].decode()
                    time = body[n - 211 : n - 195]  # bytes: _in_order maps it to its quarter
            if kind is None:
                # Already verified and canonical at import: plain json is enough.
                body = json.loads(body)
        if kind is None:
            kind, time, ballot = body["type"], body["time"], body.get("ballot")
            channel, selections = (
                (body["channel"], body["selections"]) if kind == "ballot" else (None, None)
            )
        chain.append((seq, kind, time, ballot, channel, selections))
    return chains


def collect(records):
    """(ballots by id, voided ids) from (device, epoch, seq, body) tuples in any order.

    A ballot's order key is (effective time, device, epoch, seq), where the effective time is
    the latest quarter hour claimed by any record up to it on its own chain: a clock that jumps
    back (a reboot without a real-time clock) cannot move a ballot before an earlier one of the
    same device, and a session opened at an agent-confirmed time lifts a clock that lagged.
    Ballots with the same selections bytes share one selections object: never modify it.
    """
    with gc_paused():
        ballots, voids = _in_order(_chains(records))
    voided = set()
    for device, epoch, seq, target in voids:
        b = ballots.get(target)
        # A void only ever cancels an earlier ballot of its own chain.
        if b is not None and (b.device, b.epoch) == (device, epoch) and b.seq < seq:
            voided.add(target)
    return ballots, voided


_new_tuple = tuple.__new__


def _in_order(chains):
    """(ballots by id, voids) from the chains, each in seq order, chains in key order."""
    ballots, voids, quarters = {}, [], {}
    for (device, epoch), chain in sorted(chains.items()):
        chain.sort(key=itemgetter(0))
        running = ""
        for seq, kind, time, ballot, channel, selections in chain:
            q = quarters.get(time)  # time: str, or bytes from the fast path of _chains
            if q is None:
                q = quarters[time] = quarter(time.decode() if type(time) is bytes else time)
            if q > running:
                running = q
            if kind == "ballot":
                order = (running, device, epoch, seq)
                # tuple.__new__ directly: Ballot(...) goes through a Python-level __new__.
                ballots[ballot] = _new_tuple(
                    Ballot, (ballot, device, epoch, seq, channel, selections, order)
                )
            elif kind == "void":
                voids.append((device, epoch, seq, ballot))
    return ballots, voids


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


def resolve_all(election, records=None, *, groups=None, adjudications=(), collected=None):
    """(ballots, voided ids, dedup.Resolution) of the accepted records.

    `collected`: collect(records) already computed, instead of the records.
    """
    ballots, voided = collected if collected is not None else collect(records)
    policy = election.duplicate_policy
    groups = groups or {"groups": [], "online": [], "policy": policy}
    if groups.get("policy") != policy:
        raise TallyError("groups made under another policy", expected=policy, got=groups["policy"])
    members = members_of(groups, ballots, voided)
    resolution = dedup.resolve(
        policy, [g["members"] for g in groups["groups"]], members, dedup.decisions(adjudications)
    )
    return ballots, voided, resolution


def not_counted(voided, resolution):
    """Ids of the ballots that do not count: voided, set aside or held as duplicates."""
    return voided | resolution.excluded | resolution.held


def counted_ballots(ballots, voided, resolution):
    """The counted ballots, in id order."""
    skip = not_counted(voided, resolution)
    return [ballots[i] for i in sorted(ballots) if i not in skip]


def compute(election, records=None, *, groups=None, adjudications=(), collected=None):
    """The tally as a plain dict (see `urne sync tally --json`); `collected` as in resolve_all."""
    ballots, voided, resolution = resolve_all(
        election, records, groups=groups, adjudications=adjudications, collected=collected
    )
    counted = counted_selections(ballots, not_counted(voided, resolution))
    sections = [_section(s, counted) for s in election.sections]
    not_online = [i for i in resolution.excluded if not i.startswith(dedup.ONLINE_PREFIX)]
    return {
        "election": election.id,
        "policy": election.duplicate_policy,
        "sections": sections,
        "ballots": {
            "counted": sum(n for _, n in counted),
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


def counted_selections(ballots, skip):
    """[(selections, how many counted ballots hold that very object)] of `ballots` minus `skip`.

    Ballots with the same selections share one object (see collect): a million ballots come
    down to their distinct selections, counted in C, and the few skipped ones taken off.
    """
    pairs = group_shared(list(map(itemgetter(5), ballots.values())))  # Ballot.selections
    off = Counter(id(ballots[i].selections) for i in skip if i in ballots)
    return [(s, n - off[id(s)]) for s, n in pairs if n > off[id(s)]]


def _section(section, counted):
    """One section's results from counted_selections (selections are dicts by section id)."""
    votes = {p["id"]: 0 for p in section.projects}
    score = {p["id"]: 0 for p in section.projects}
    pairs = [(selections[section.id], n) for selections, n in counted]
    for selection, times in pairs:
        for pid, n in section.scores(selection).items():
            votes[pid] += times
            score[pid] += n * times
    # The rules do not depend on the ballots' order: each distinct selection, times its ballots.
    profile = list(concat.from_iterable(repeat(s, n) for s, n in pairs))
    rules = section.tally["rules"]
    outcomes = [_run(section, rule, profile, pairs) for rule in rules]
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


def _run(section, rule, selections, counts):
    """One rule over the section's counted selections, through the tally package (sync/tally/)."""
    from .tally import run_section

    outcome = run_section(section, rule, selections, counts=counts).to_json()
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
