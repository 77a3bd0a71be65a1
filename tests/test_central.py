"""The central's import: verify first, one transaction, idempotence, forks, gaps, concurrency."""

import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path

import pytest
from fixtures_central import NOW, downgrade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.central import CentralStore, import_bundle
from sync.central_home import open_central
from sync.errors import ConflictError, EnrollmentError, UrneError
from sync.publish import central_result
from sync.results import tally_json

T = "2026-05-16T"


def events(voters, channel="kiosk", start=9):
    """A session with one ballot per voter, a quarter hour apart, then a close."""
    out = [("open", f"{T}{start:02d}:00")]
    for i, v in enumerate(voters):
        out.append(("ballot", v, channel, f"{T}{start + i // 4:02d}:{i % 4 * 15:02d}"))
    out.append(("close", f"{T}{start + len(voters) // 4 + 1:02d}:00"))
    return out


def dump(home):
    """Everything the central stores about ballots, as comparable plain data."""
    conn = sqlite3.connect(Path(home) / "central.db")
    try:
        return {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()  # noqa: S608
            for t in ("records", "bundles", "devices", "imports")
        }
    finally:
        conn.close()


def test_import_is_idempotent(central_kit):
    kit = central_kit()
    recs = kit.chain("k1", events(["Ana", "Ben", "Cy"]))
    whole, part = kit.bundle("k1", recs), kit.bundle("k1", recs, 2, 4)
    with kit.open() as c:
        first = import_bundle(c.store, c.election, whole, now=NOW)
        again = import_bundle(c.store, c.election, whole, now=NOW)
        overlap = import_bundle(c.store, c.election, part, now=NOW)
        data = import_bundle(c.store, c.election, part.read_bytes(), now=NOW)
    assert (first.status, first.added, first.state) == ("imported", 5, "complete")
    assert (again.status, again.added) == ("already", 0)
    assert (overlap.status, overlap.added, overlap.present) == ("present", 0, 3)
    assert data.status == "already"
    state = dump(kit.home)
    assert len(state["records"]) == 5 and len(state["bundles"]) == 2
    assert sorted(p.name for p in (kit.home / "bundles").iterdir()) == sorted(
        f"{r[0]}.urne" for r in state["bundles"]
    )


def test_a_gap_is_reported_then_filled(central_kit):
    kit = central_kit()
    recs = kit.chain("k1", events(["Ana", "Ben", "Cy"]))
    with kit.open() as c:
        late = import_bundle(c.store, c.election, kit.bundle("k1", recs, 3, 5), now=NOW)
        early = import_bundle(c.store, c.election, kit.bundle("k1", recs, 1, 2), now=NOW)
    assert late.state == "gap"
    assert early.state == "complete"


def test_a_fork_is_refused_whole_and_flags_the_device(central_kit):
    kit = central_kit()
    honest = kit.chain("k1", events(["Ana", "Ben"]))
    forged = kit.chain("k1", events(["Ana", "Zoe", "Yan"]), seed=99)  # same key, other history
    with kit.open() as c:
        import_bundle(c.store, c.election, kit.bundle("k1", honest), now=NOW)
        before = dump(kit.home)
        with pytest.raises(ConflictError, match="fork"):
            import_bundle(c.store, c.election, kit.bundle("k1", forged), now=NOW)
        after = dump(kit.home)
        devices = c.store.devices()
    assert after["records"] == before["records"]
    assert after["bundles"] == before["bundles"]
    assert devices[0]["state"] == "fork"
    assert after["imports"][-1][6] == "fork"


def test_a_bundle_that_does_not_link_to_stored_records_is_a_fork(central_kit):
    kit = central_kit()
    a = kit.chain("k1", events(["Ana", "Ben", "Cy"]))
    b = kit.chain("k1", events(["Ana", "Ben", "Cy"]), seed=5)  # same shape, other ballot ids
    with kit.open() as c:
        import_bundle(c.store, c.election, kit.bundle("k1", a, 1, 2), now=NOW)
        with pytest.raises(ConflictError, match="does not link"):
            import_bundle(c.store, c.election, kit.bundle("k1", b, 3, 5), now=NOW)


def test_a_tampered_bundle_changes_nothing(central_kit):
    kit = central_kit()
    recs = kit.chain("k1", events(["Ana", "Ben"]))
    path = kit.bundle("k1", recs)
    data = bytearray(path.read_bytes())
    i = data.index(b'"Ana"') if b'"Ana"' in data else data.index(b'"selections"') + 20
    data[i] ^= 1
    before = dump(kit.home)
    with kit.open() as c, pytest.raises(UrneError):
        import_bundle(c.store, c.election, bytes(data), now=NOW)
    assert dump(kit.home) == before
    assert not list((kit.home / "bundles").glob("*"))


def test_a_bundle_of_another_election_is_refused(central_kit):
    kit, other = central_kit(), central_kit(policy="latest")
    path = other.bundle("k1", other.chain("k1", events(["Ana"])))
    with kit.open() as c, pytest.raises(EnrollmentError, match="election"):
        import_bundle(c.store, c.election, path, now=NOW)


def test_concurrent_imports_never_lock(central_kit):
    devices = tuple(f"k{i}" for i in range(6))
    kit = central_kit(devices=devices)
    paths = []
    for d in devices:
        recs = kit.chain(d, events([f"{d}-v{j}" for j in range(12)]))
        paths += [kit.bundle(d, recs, 1, 7), kit.bundle(d, recs, 5, 14), kit.bundle(d, recs)]
    errors = []

    def push(path):
        try:
            with open_central(kit.home) as c:
                import_bundle(c.store, c.election, path, now=NOW)
        except Exception as exc:  # noqa: BLE001 - every failure is the test's evidence
            errors.append(exc)

    threads = [threading.Thread(target=push, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    state = dump(kit.home)
    assert len(state["records"]) == 6 * 14
    assert {row[4] for row in state["devices"]} == {"complete"}


def test_a_ballot_id_already_used_by_another_device_is_refused(central_kit):
    kit = central_kit()
    k1 = kit.chain("k1", events(["Ana", "Ben"]))
    stolen = k1[2][2]["ballot"]  # Ben's ballot, replayed by k2 under its own key
    k2 = kit.chain("k2", events(["Cy", "Dan"]), ballot_ids=[None, stolen])
    with kit.open() as c:
        import_bundle(c.store, c.election, kit.bundle("k1", k1), now=NOW)
        before = dump(kit.home)
        with pytest.raises(
            ConflictError, match=f"ballot id {stolen} already used by k1 epoch 1 seq 3"
        ):
            import_bundle(c.store, c.election, kit.bundle("k2", k2), now=NOW)
    after = dump(kit.home)
    assert after["records"] == before["records"] and after["bundles"] == before["bundles"]


def test_ballot_ids_sharing_their_key_prefix_are_distinct_ballots(central_kit):
    from sync.central_schema import ballot_key

    kit = central_kit()
    # The index keys on the first 31 bits; ids alike there must still both count.
    same = ["abcdef01" + "0" * 24, "abcdef00" + "f" * 24]
    assert ballot_key(same[0]) == ballot_key(same[1])
    k1 = kit.chain("k1", events(["Ana"]), ballot_ids=same[:1])
    k2 = kit.chain("k2", events(["Ben"]), ballot_ids=same[1:])
    with kit.open() as c:
        for name, recs in (("k1", k1), ("k2", k2)):
            assert import_bundle(c.store, c.election, kit.bundle(name, recs), now=NOW).added == 3
    assert {r[7] for r in dump(kit.home)["records"] if r[6] == "ballot"} == set(same)


def test_migration_3_keys_the_ballots_a_central_already_holds(central_kit):
    from sync.central_schema import MIGRATIONS, ballot_key

    kit = central_kit()
    k1 = kit.chain("k1", events(["Ana", "Ben"]))
    with kit.open() as c:
        import_bundle(c.store, c.election, kit.bundle("k1", k1), now=NOW)
    downgrade(kit.home, 2)
    with kit.open() as c:
        version = c.store.conn.execute("PRAGMA user_version").fetchone()[0]
        keys = c.store.conn.execute("SELECT kind, ballot, ballot_key FROM records").fetchall()
        indexes = {
            r[0]
            for r in c.store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        # The replay check works on the keys the migration computed.
        k2 = kit.chain("k2", events(["Cy"]), ballot_ids=[k1[1][2]["ballot"]])
        with pytest.raises(ConflictError, match="already used by k1"):
            import_bundle(c.store, c.election, kit.bundle("k2", k2), now=NOW)
    assert version == len(MIGRATIONS) == 4
    assert [k for kind, b, k in keys if kind == "ballot"] == [
        ballot_key(b) for kind, b, k in keys if kind == "ballot"
    ]
    assert len([k for kind, _, k in keys if kind == "ballot"]) == 2
    assert {k for kind, _, k in keys if kind != "ballot"} == {None}
    assert "records_ballot_key" in indexes and "records_ballot" not in indexes


def test_newer_schema_is_refused(tmp_path):
    CentralStore(tmp_path).close()
    conn = sqlite3.connect(tmp_path / "central.db")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(UrneError, match="newer"):
        CentralStore(tmp_path)


# The central state and tally are a pure function of the set of accepted records -----------


@pytest.fixture(scope="module")
def pure_kit(tmp_path_factory):
    from fixtures_central import make_central_kit

    kit = make_central_kit(tmp_path_factory.mktemp("pure"))
    chains = {
        "k1": kit.chain("k1", events(["Ana", "Ben", "Cy", "Dan"])),
        "k2": kit.chain("k2", events(["Ana", "Eve", "Fay"], channel="paper", start=10)),
    }
    return kit, chains


def _state(home):
    with open_central(home) as c:
        result = tally_json(central_result(c, now=NOW))
        records = c.store.conn.execute(
            "SELECT device, epoch, seq, hash FROM records ORDER BY 1, 2, 3"
        ).fetchall()
        devices = [
            (d["device"], d["state"], d["records"], d["max_seq"], d["ballots"])
            for d in c.store.devices()
        ]
    return records, devices, result


ranges = st.tuples(st.sampled_from(["k1", "k2"]), st.integers(1, 6), st.integers(0, 5))


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pieces=st.lists(ranges, min_size=0, max_size=6), order=st.randoms(use_true_random=False))
def test_any_order_repetition_or_split_gives_the_same_state(pure_kit, pieces, order):
    kit, chains = pure_kit
    with tempfile.TemporaryDirectory() as tmp:
        ref_home, home = Path(tmp) / "ref", Path(tmp) / "c"
        shutil.copytree(kit.home, ref_home)
        shutil.copytree(kit.home, home)
        full = [kit.bundle(d, chains[d]) for d in ("k1", "k2")]
        with open_central(ref_home) as c:
            for p in full:
                import_bundle(c.store, c.election, p, now=NOW)
        # Arbitrary overlapping pieces, some repeated, then the whole chains, shuffled.
        paths = []
        for d, a, length in pieces:
            n = len(chains[d])
            a = min(a, n)
            paths.append(kit.bundle(d, chains[d], a, min(n, a + length)))
        paths += full + paths[:2]
        order.shuffle(paths)
        with open_central(home) as c:
            for p in paths:
                import_bundle(c.store, c.election, p, now=NOW)
        assert _state(home) == _state(ref_home)
