"""Publish: the audit folder recomputes the central's tally alone; the public part; purge."""

import json
import shutil

import pytest
from fixtures_central import NOW

from sync.central import import_bundle
from sync.errors import ConflictError, KeyFileError, SignatureError, TallyError, UrneError
from sync.groups import adjudicate, current_groups, review, signing_key
from sync.publish import (
    central_result,
    publish,
    publish_public,
    purge,
    recompute_tally,
    verify_published,
)
from sync.results import tally_json

T = "2026-05-16T"


@pytest.fixture
def loaded(central_kit):
    """A central holding two devices' ballots, one duplicate resident decided, one held."""
    kit = central_kit()
    k1 = kit.chain(
        "k1",
        [
            ("open", f"{T}09:00"),
            ("ballot", "Ana", "kiosk", f"{T}09:00"),
            ("ballot", "Ben", "kiosk", f"{T}09:15"),
            ("ballot", "Cy", "kiosk", f"{T}09:30"),
            ("void", f"{T}09:30"),
        ],
    )
    k2 = kit.chain(
        "k2",
        [
            ("open", f"{T}09:00"),
            ("ballot", "Ana", "paper", f"{T}10:00"),
            ("ballot", "Ben", "kiosk", f"{T}10:00"),
            ("ballot", "Dan", "kiosk", f"{T}10:15"),
        ],
    )
    with kit.open() as c:
        import_bundle(c.store, c.election, kit.bundle("k1", k1, 1, 3), now=NOW)
        import_bundle(c.store, c.election, kit.bundle("k1", k1, 3, 5), now=NOW)
        import_bundle(c.store, c.election, kit.bundle("k2", k2), now=NOW)
        central_result(c, now=NOW)
        ana = next(
            g
            for g in current_groups(c.store, c.election)["groups"]
            if k2[1][2]["ballot"] in g["members"]
        )
        adjudicate(
            c.store,
            c.election,
            signing_key(c.home),
            ana["id"],
            [k2[1][2]["ballot"]],
            reason="paper first",
            by="org",
            now=NOW,
        )
    return kit


def test_publish_then_recompute_equals_the_central_tally(loaded, tmp_path):
    with loaded.open() as c:
        result = publish(c, tmp_path / "audit", now=NOW)
        again = tally_json(central_result(c, now=NOW))
    assert result["ballots"] == {"counted": 2, "held": 2, "voided": 1, "excluded": 1}
    assert tally_json(recompute_tally(tmp_path / "audit")) == again
    assert (tmp_path / "audit" / "tally.json").read_bytes() == again
    assert len(list((tmp_path / "audit" / "bundles").glob("*.urne"))) == 3
    verify_published(tmp_path / "audit")


def test_a_forged_decision_or_groups_file_is_refused(loaded, tmp_path):
    with loaded.open() as c:
        publish(c, tmp_path / "audit", now=NOW)
    for name in (
        "groups.json",
        next((tmp_path / "audit" / "adjudications").iterdir()).relative_to(tmp_path / "audit"),
    ):
        copy = tmp_path / f"copy-{str(name).replace('/', '-')}"
        shutil.copytree(tmp_path / "audit", copy)
        path = copy / name
        path.write_bytes(
            path.read_bytes().replace(b'"hold"', b'"latest"').replace(b'"paper first"', b'"other"')
        )
        with pytest.raises(SignatureError):
            recompute_tally(copy)


def test_a_changed_tally_file_is_detected(loaded, tmp_path):
    with loaded.open() as c:
        publish(c, tmp_path / "audit", now=NOW)
    path = tmp_path / "audit" / "tally.json"
    path.write_bytes(path.read_bytes().replace(b'"counted":2', b'"counted":3'))
    with pytest.raises(UrneError, match="differs"):
        verify_published(tmp_path / "audit")


def test_publish_refuses_a_folder_in_use(loaded, tmp_path):
    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / "x").write_text("x")
    with loaded.open() as c, pytest.raises(ConflictError):
        publish(c, tmp_path / "audit", now=NOW)


def test_the_public_part_holds_only_results_counts_and_receipts(loaded, tmp_path):
    with loaded.open() as c:
        publish_public(c, tmp_path / "public", now=NOW)
        codes = dict(c.store.conn.execute("SELECT ballot, code FROM receipts"))
    assert sorted(p.name for p in (tmp_path / "public").iterdir()) == [
        "counts.json",
        "receipts.txt",
        "result.json",
    ]
    receipts = (tmp_path / "public" / "receipts.txt").read_text().split()
    assert len(receipts) == 2 and set(receipts) <= set(codes.values())
    counts = json.loads((tmp_path / "public" / "counts.json").read_text())
    assert sum(n for stand in counts["stands"].values() for n in stand.values()) == 2
    text = b"".join(p.read_bytes() for p in (tmp_path / "public").iterdir())
    assert not any(ballot.encode() in text for ballot in codes)  # no ballot id is public


def test_purge_removes_identifying_data_and_everything_still_verifies(loaded, tmp_path):
    with loaded.open() as c:
        publish(c, tmp_path / "audit", now=NOW)
        before = tally_json(central_result(c, now=NOW))
        opened = [bytes(t) for (t,) in c.store.conn.execute("SELECT tag FROM tags")]
        removed = purge(c, now=NOW, force=True)
        assert any("tag-opening key" in r for r in removed)
        assert not (c.home / "keys" / "central.key").exists()
        assert c.store.conn.execute("SELECT count(*) FROM tags").fetchone()[0] == 0
        assert tally_json(central_result(c, now=NOW)) == before
        with pytest.raises(ConflictError, match="purged"):
            import_bundle(
                c.store, c.election, next((tmp_path / "audit" / "bundles").iterdir()), now=NOW
            )
        publish(c, tmp_path / "after", now=NOW)
        publish_public(c, tmp_path / "public", now=NOW)
    raw = b"".join(p.read_bytes() for p in c.home.glob("central.db*"))
    assert b"k1" in raw and opened  # the file still holds the records, and tags existed...
    assert not any(
        tag in raw for tag in opened
    )  # ...but no opened tag survives, even in free pages
    verify_published(tmp_path / "audit")
    assert tally_json(recompute_tally(tmp_path / "after")) == before


def test_public_part_needs_receipt_codes(central_kit, tmp_path):
    kit = central_kit()
    with kit.open() as c:
        import_bundle(
            c.store,
            c.election,
            kit.bundle(
                "k1",
                kit.chain("k1", [("open", f"{T}09:00"), ("ballot", "Ana", "kiosk", f"{T}09:00")]),
            ),
            now=NOW,
        )
        central_result(c, now=NOW)
        c.store.conn.execute("DELETE FROM receipts")
        with pytest.raises(KeyFileError, match="receipt"):
            publish_public(c, tmp_path / "public", now=NOW)


def test_a_revoked_device_stops_counting_and_the_audit_still_agrees(loaded, tmp_path):
    from sync.central_home import install_revocations
    from sync.enroll import build_revocations

    data = build_revocations(
        loaded.election, authority_key=loaded.authority_key,
        revoked=[{"device": "k2", "epoch": 1, "reason": "stolen"}], serial=1,
    )  # fmt: skip
    install_revocations(loaded.home, data)
    with loaded.open() as c:
        result = publish(c, tmp_path / "audit", now=NOW)
    # Only k1 counts now: Ana and Ben were held with k2's ballots, now they stand alone.
    assert result["ballots"] == {"counted": 2, "held": 0, "voided": 1, "excluded": 0}
    assert not list((tmp_path / "audit" / "certificates").glob("k2-*"))
    assert tally_json(recompute_tally(tmp_path / "audit")) == tally_json(result)


def test_purge_refuses_while_groups_are_held_and_changes_nothing(loaded):
    with loaded.open() as c:
        tags = c.store.conn.execute("SELECT count(*) FROM tags").fetchone()[0]
        with pytest.raises(TallyError, match="1 group held, 2 ballots not counted.*--force"):
            purge(c, now=NOW)
        assert (c.home / "keys" / "central.key").exists()
        assert c.store.conn.execute("SELECT count(*) FROM tags").fetchone()[0] == tags
        assert not c.store.meta("purged")


def test_forced_purge_warns_and_the_signed_groups_stay_listed(loaded):
    warnings = []
    with loaded.open() as c:
        before = review(c, now=NOW)
        purge(c, now=NOW, force=True, warn=warnings.append)
        assert review(c, now=NOW) == before  # from the stored signed document, no key needed
    assert len(warnings) == 1 and "1 group held, 2 ballots not counted" in warnings[0]
    assert len(before[1]) == 1 and before[2] == 2


def test_purge_goes_ahead_once_every_group_is_decided(loaded):
    with loaded.open() as c:
        _, held, _ = review(c, now=NOW)
        body = current_groups(c.store, c.election)
        members = next(g["members"] for g in body["groups"] if g["id"] == held[0])
        adjudicate(c.store, c.election, signing_key(c.home), held[0], members[:1], reason="r",
                   by="M. X", now=NOW)  # fmt: skip
        assert purge(c, now=NOW)
        assert c.store.meta("purged")
