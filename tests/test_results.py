"""The central's tally: counts per section through the tally package, canonical and order-free."""

import gc
import json

from fixtures_central import NOW

from sync.central import import_bundle
from sync.publish import central_result
from sync.results import collect, compute, quarter, tally_json, turnout

T = "2026-05-16T"


def test_quarter_rounds_session_minutes_down():
    assert quarter("2026-05-16T10:59") == "2026-05-16T10:45"
    assert quarter("2026-05-16T10:00") == "2026-05-16T10:00"


def test_tally_counts_votes_and_runs_the_rule(central_kit):
    kit = central_kit()
    recs = kit.chain(
        "k1",
        [("open", f"{T}09:00")] + [("ballot", f"V{i}", "kiosk", f"{T}09:00") for i in range(4)],
    )
    with kit.open() as c:
        import_bundle(c.store, c.election, kit.bundle("k1", recs), now=NOW)
        result = central_result(c, now=NOW)
    dept, canton = result["sections"]
    # seq 2..5 -> SELECTIONS[2], [3], [0], [1]: d2; d1; d1 d3; blank.
    assert dept["votes"] == {"d1": 2, "d2": 1, "d3": 1}
    assert dept["rule"] == "greedy" and dept["budget"] == 100000
    # Greedy by votes, ties by id: d1 (20000), then d2 (40000), then d3 (60000) does not fit.
    assert dept["selected"] == ["d1", "d2"] and dept["spent"] == 60000
    assert canton["score"] == {"c1": 4, "c2": 3} and canton["votes"] == {"c1": 2, "c2": 2}
    assert result["ballots"] == {"counted": 4, "held": 0, "voided": 0, "excluded": 0}


def test_the_same_records_in_any_order_give_the_same_bytes(central_kit):
    kit = central_kit()
    recs = kit.chain(
        "k1",
        [("open", f"{T}09:00")]
        + [("ballot", f"V{i}", "kiosk", f"{T}09:15") for i in range(5)]
        + [("void", f"{T}09:30")],
    )
    rows = [("k1", 1, b["seq"], raw) for raw, _, b in recs]
    a = tally_json(compute(kit.election, rows))
    b = tally_json(compute(kit.election, list(reversed(rows)) + rows[:3]))
    assert a == b
    ballots, voided = collect(rows)
    assert len(ballots) == 5 and len(voided) == 1


def test_turnout_counts_per_stand_channel_day_and_hour(central_kit):
    kit = central_kit()
    recs = kit.chain(
        "k1",
        [
            ("open", f"{T}09:00"),
            ("ballot", "A", "kiosk", f"{T}09:00"),
            ("ballot", "B", "paper", f"{T}10:15"),
            ("void", f"{T}10:15"),
        ],
    )
    rows = [("k1", 1, b["seq"], raw) for raw, _, b in recs]
    assert turnout(rows) == {
        "stand": {"k1": 1},
        "channel": {"kiosk": 1},
        "day": {"2026-05-16": 1},
        "hour": {"2026-05-16T09": 1},
    }


def _canton_election():
    """The mini election with its first section funding one project per canton."""
    import copy

    from fixtures_records import MINI_SOURCE, seeded_keys

    from sync import crypto
    from sync.election import build_package, read_package

    source = copy.deepcopy(MINI_SOURCE)
    dept = source["sections"][0]
    dept["tally"] = {"rules": ["greedy"], "min_per_canton": True}
    for p, cost, canton in zip(dept["projects"], (60000, 60000, 20000), "abb", strict=True):
        p.update(cost=cost, canton=canton)
    authority, central, secret, rng = seeded_keys(1)
    return read_package(build_package(source, authority_key=authority, rng=rng,
                                      central_public=crypto.public_bytes(central), secret=secret))  # fmt: skip


def test_a_tie_decided_by_the_per_canton_stage_is_published_with_the_details():
    election = _canton_election()
    picks = [["d1", "d2"], ["d1", "d2"], ["d3"]]
    rows = [
        ("k1", 1, i + 2, {"type": "ballot", "ballot": f"b{i}", "channel": "kiosk",
                          "time": f"{T}09:00", "selections": {"dept": d, "canton-1": {}}})
        for i, d in enumerate(picks)
    ]  # fmt: skip
    result = compute(election, rows)
    (dept,) = [s["results"][0] for s in result["sections"] if s["id"] == "dept"]
    # d1 and d2 have the same votes: canton "a" sorts first, so d1 is funded and d2 no longer fits.
    assert dept["selected"] == ["d1", "d3"]
    assert dept["ties"] == [{"score": 2, "tied": ["d1", "d2"], "funded": ["d1"], "stage": "per_canton",
                             "by": "canton name order", "cantons": ["a", "b"]}]  # fmt: skip
    assert dept["details"] == {"per_canton": ["d1", "d3"]}
    assert tally_json(compute(election, list(reversed(rows)))) == tally_json(result)


def test_stored_bytes_and_parsed_bodies_give_the_same_tally(central_kit):
    # collect() slices canonical ballot bytes instead of parsing them: it must agree with json.
    kit = central_kit()
    recs = kit.chain(
        "k1",
        [("open", f"{T}09:00")]
        + [
            ("ballot", f"V{i}", ("kiosk", "paper")[i % 2], f"{T}09:{i % 4 * 15:02d}")
            for i in range(7)
        ]
        + [("void", f"{T}10:15"), ("ballot", "W", "kiosk", f"{T}08:45")],
    )
    as_bytes = [("k1", 1, b["seq"], raw) for raw, _, b in recs]
    as_dicts = [("k1", 1, b["seq"], json.loads(raw)) for raw, _, b in recs]
    spaced = [("k1", 1, s, json.dumps(json.loads(raw)).encode()) for _, _, s, raw in as_bytes]
    assert collect(as_bytes) == collect(as_dicts) == collect(spaced)
    # Not in store order: the same ballots, in the same dict order.
    shuffled = as_bytes[5:] + as_bytes[:5]
    assert collect(shuffled) == collect(as_bytes)
    assert list(collect(shuffled)[0]) == list(collect(as_bytes)[0])
    ballots, voided = collect(as_bytes)
    assert len(ballots) == 8 and len(voided) == 1
    assert {b.channel for b in ballots.values()} == {"kiosk", "paper"}
    same = tally_json(compute(kit.election, as_bytes))
    assert same == tally_json(compute(kit.election, as_dicts))
    assert same == tally_json(compute(kit.election, spaced))


def test_collect_leaves_the_garbage_collector_as_it_found_it():
    assert gc.isenabled()
    collect([])
    assert gc.isenabled()
    gc.disable()
    try:
        collect([])
        assert not gc.isenabled()
    finally:
        gc.enable()
