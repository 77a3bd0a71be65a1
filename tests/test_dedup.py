"""Duplicate voters: grouping, the four policies, signed groups and adjudications, their replay."""

import pytest
from fixtures_central import NOW

from sync import crypto, dedup
from sync.central import import_bundle
from sync.errors import ConflictError, RecordError, SignatureError, UrneError
from sync.groups import (
    TAGS_UPTO,
    adjudicate,
    central_key,
    open_tags,
    refresh_groups,
    signing_key,
)
from sync.publish import central_result

T = "2026-05-16T"


def member(i, channel="kiosk", time="10:00", device="k1", seq=1):
    return dedup.Member(i, channel, (f"{T}{time}", device, 1, seq))


def test_groups_are_ids_sharing_a_tag_two_or_more():
    tagged = [("b", b"x"), ("a", b"x"), ("c", b"y"), ("d", b"z"), ("e", b"z"), ("f", b"z")]
    assert dedup.build_groups(tagged) == [["a", "b"], ["d", "e", "f"]]


@pytest.mark.parametrize(
    ("policy", "kept"),
    [("hold", None), ("earliest", "early"), ("latest", "late"), ("paper-wins", "paper")],
)
def test_each_policy_keeps_what_it_says(policy, kept):
    members = [
        member("late", time="11:00", device="k2"),
        member("early", time="09:15", device="k3"),
        member("paper", "paper", time="10:00"),
    ]
    assert dedup.decide(policy, members) == kept


def test_same_quarter_hour_is_decided_by_the_device_chain_not_the_random_id():
    a = member("ffff", time="10:00", device="k1", seq=7)
    b = member("0000", time="10:00", device="k1", seq=9)
    assert dedup.decide("earliest", [b, a]) == "ffff"


def test_paper_wins_holds_when_paper_does_not_decide():
    two_paper = [member("p1", "paper"), member("p2", "paper", device="k2")]
    no_paper = [member("k1"), member("k2", device="k2")]
    assert dedup.decide("paper-wins", two_paper) is None
    assert dedup.decide("paper-wins", no_paper) is None


def test_resolution_holds_excludes_and_cancels_online():
    groups = [["a", "online:42"], ["b", "c"]]
    members = {
        "a": member("a", time="09:00"),
        "online:42": dedup.Member("online:42", "online", (f"{T}12:00", "~online", 0, 0)),
        "b": member("b"),
        "c": member("c", device="k2"),
    }
    res = dedup.resolve("earliest", groups, members, {})
    assert res.excluded == {"online:42", "c"} and res.cancel_online == ("42",)
    held = dedup.resolve("hold", groups, members, {})
    assert held.held == {"a", "online:42", "b", "c"} and len(held.held_groups) == 2
    decided = dedup.resolve("hold", groups, members, {dedup.group_id(["b", "c"]): ("c",)})
    assert "c" in decided.counted and "b" in decided.excluded and "b" not in decided.held


def test_signed_groups_and_adjudications_verify_and_refuse_tampering():
    key = crypto.generate_signing_key()
    data = dedup.groups_document(key, "e" * 64, "hold", [["a", "b"]], {})
    body, signer = dedup.read_groups(data, "e" * 64, key=crypto.public_bytes(key))
    assert body["groups"][0]["members"] == ["a", "b"] and signer == crypto.public_bytes(key)
    with pytest.raises(SignatureError):
        dedup.read_groups(data.replace(b'"a"', b'"c"'), "e" * 64)
    with pytest.raises(SignatureError):
        dedup.read_groups(data, "e" * 64, key=crypto.public_bytes(crypto.generate_signing_key()))
    adj = dedup.adjudication(
        key, "e" * 64, ["a", "b"], ["b"], reason="b first", by="org", time=f"{T}12:00"
    )
    assert dedup.read_adjudication(adj, "e" * 64)["keep"] == ["b"]
    with pytest.raises(SignatureError):
        dedup.read_adjudication(adj.replace(b'"keep":["b"]', b'"keep":["a"]'), "e" * 64)
    with pytest.raises(RecordError, match="one resident"):
        dedup.adjudication(key, "e" * 64, ["a", "b"], ["a", "b"], reason="x", by="o", time="t")


def test_adjudication_releases_a_held_group_and_is_replayed(central_kit):
    kit = central_kit()
    k1 = kit.chain(
        "k1",
        [
            ("open", f"{T}09:00"),
            ("ballot", "Ana", "kiosk", f"{T}09:00"),
            ("ballot", "Ben", "kiosk", f"{T}09:15"),
        ],
    )
    k2 = kit.chain("k2", [("open", f"{T}09:00"), ("ballot", "Ana", "paper", f"{T}10:00")])
    with kit.open() as c:
        for recs, d in ((k1, "k1"), (k2, "k2")):
            import_bundle(c.store, c.election, kit.bundle(d, recs), now=NOW)
        held = central_result(c, now=NOW)
        assert held["ballots"] == {"counted": 1, "held": 2, "voided": 0, "excluded": 0}
        body = refresh_groups(
            c.store, c.election, central_key(c.home), signing_key(c.home), now=NOW
        )
        group = body["groups"][0]
        keep = k2[1][2]["ballot"]
        adjudicate(
            c.store,
            c.election,
            signing_key(c.home),
            group["id"],
            [keep],
            reason="paper first",
            by="org",
            now=NOW,
        )
        with pytest.raises(ConflictError):
            adjudicate(
                c.store,
                c.election,
                signing_key(c.home),
                group["id"],
                [],
                reason="again",
                by="org",
                now=NOW,
            )
        decided = central_result(c, now=NOW)
    assert decided["ballots"] == {"counted": 2, "held": 0, "voided": 0, "excluded": 1}
    assert decided["groups"]["held"] == []


def test_a_void_removes_a_ballot_from_its_group(central_kit):
    kit = central_kit(policy="earliest")
    k1 = kit.chain(
        "k1",
        [("open", f"{T}09:00"), ("ballot", "Ana", "kiosk", f"{T}09:00"), ("void", f"{T}09:00")],
    )
    k2 = kit.chain("k2", [("open", f"{T}09:00"), ("ballot", "Ana", "kiosk", f"{T}11:00")])
    with kit.open() as c:
        for recs, d in ((k1, "k1"), (k2, "k2")):
            import_bundle(c.store, c.election, kit.bundle(d, recs), now=NOW)
        result = central_result(c, now=NOW)
    assert result["ballots"] == {"counted": 1, "held": 0, "voided": 1, "excluded": 0}
    assert result["groups"]["total"] == 0


def test_earliest_does_not_trust_a_clock_that_jumped_back(central_kit):
    # k1's clock jumps back to 08:00 after a reboot; its ballot still comes after 10:00.
    kit = central_kit(policy="earliest")
    k1 = kit.chain(
        "k1",
        [
            ("open", f"{T}10:00"),
            ("ballot", "Ben", "kiosk", f"{T}10:00"),
            ("ballot", "Ana", "kiosk", f"{T}08:00"),
        ],
    )
    k2 = kit.chain("k2", [("open", f"{T}09:00"), ("ballot", "Ana", "kiosk", f"{T}09:30")])
    with kit.open() as c:
        for recs, d in ((k1, "k1"), (k2, "k2")):
            import_bundle(c.store, c.election, kit.bundle(d, recs), now=NOW)
        from sync.groups import adjudication_bodies, current_groups
        from sync.results import resolve_all

        central_result(c, now=NOW)
        _, _, res = resolve_all(
            c.election,
            c.store.records(),
            groups=current_groups(c.store, c.election),
            adjudications=adjudication_bodies(c.store, c.election),
        )
    assert res.excluded == {k1[2][2]["ballot"]}


def test_tags_are_opened_once_and_a_later_import_between_tallies_is_opened_too(central_kit):
    kit = central_kit()
    k1 = kit.chain("k1", [("open", f"{T}09:00"), ("ballot", "Ana", "kiosk", f"{T}09:00")])
    k2 = kit.chain("k2", [("open", f"{T}09:00"), ("ballot", "Ana", "paper", f"{T}10:00")])
    with kit.open() as c:
        key = central_key(c.home)
        import_bundle(c.store, c.election, kit.bundle("k1", k1), now=NOW)
        assert open_tags(c.store, c.election, key) == 1
        mark = int(c.store.meta(TAGS_UPTO))
        assert mark == c.store.conn.execute("SELECT max(id) FROM records").fetchone()[0]
        assert open_tags(c.store, c.election, key) == 0  # nothing new: nothing scanned
        assert central_result(c, now=NOW)["ballots"]["held"] == 0
        # A bundle imported after the first tally: its tag is opened, its voter found twice.
        import_bundle(c.store, c.election, kit.bundle("k2", k2), now=NOW)
        result = central_result(c, now=NOW)
        assert int(c.store.meta(TAGS_UPTO)) > mark
        assert c.store.conn.execute("SELECT count(*) FROM tags").fetchone()[0] == 2
    assert result["ballots"] == {"counted": 0, "held": 2, "voided": 0, "excluded": 0}


def test_tags_opened_in_windows_on_several_processes_are_the_ones_opened_at_once(
    central_kit, monkeypatch
):
    """Small windows and chunks, two processes: the same tags, receipts and mark as one step."""
    import shutil

    import sync.groups as groups_module
    from sync.central_home import open_central

    kit = central_kit()
    recs = kit.chain(
        "k1",
        [("open", f"{T}09:00")]
        + [("ballot", f"V{i % 5}", "kiosk", f"{T}09:{i % 4 * 15:02d}") for i in range(9)],
    )
    with kit.open() as c:
        import_bundle(c.store, c.election, kit.bundle("k1", recs), now=NOW)
    copy = kit.root / "copy"
    shutil.copytree(kit.home, copy)
    read = "SELECT ballot, tag FROM tags ORDER BY ballot", "SELECT * FROM receipts ORDER BY ballot"
    with kit.open() as c:
        assert open_tags(c.store, c.election, central_key(c.home), workers=1) == 9
        one_step = [c.store.conn.execute(q).fetchall() for q in read]
        mark = c.store.meta(TAGS_UPTO)
    monkeypatch.setattr(groups_module, "WINDOW", 4)  # the session record, 9 ballots: 3 windows
    monkeypatch.setattr(groups_module, "CHUNK", 2)
    monkeypatch.setattr(groups_module, "PARALLEL_FROM", 1)
    with open_central(copy) as c:
        assert open_tags(c.store, c.election, central_key(c.home), workers=2) == 9
        assert [c.store.conn.execute(q).fetchall() for q in read] == one_step
        assert c.store.meta(TAGS_UPTO) == mark
        assert len({tag for _, tag in one_step[0]}) == 5  # five residents, four voted twice


def test_a_wrong_central_key_is_refused_even_with_nothing_new_to_open(central_kit):
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    kit = central_kit()
    k1 = kit.chain("k1", [("open", f"{T}09:00"), ("ballot", "Ana", "kiosk", f"{T}09:00")])
    with kit.open() as c:
        import_bundle(c.store, c.election, kit.bundle("k1", k1), now=NOW)
        open_tags(c.store, c.election, central_key(c.home))
        with pytest.raises(UrneError):
            open_tags(c.store, c.election, X25519PrivateKey.generate())
