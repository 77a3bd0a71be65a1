"""KioskStore: one transaction per cast, one vote per resident, the chain re-verified at start."""

import itertools
import sqlite3
import threading
from datetime import date, timedelta

import pytest
from fixtures_kiosk import KIOSK_NOW, demo_selections, resident
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.eligibility import age_on
from kiosk.errors import (
    AlreadyVoted,
    ChainBroken,
    Ineligible,
    NotSetUp,
    SessionError,
    StandClosed,
    StoreCorrupt,
    StoreFailed,
    VoidRefused,
)
from kiosk.store import KioskStore
from sync import records, tags
from sync.canonical import parse_canonical
from sync.errors import RecordError, SelectionError


def _cast(store, n, **kwargs):
    kwargs.setdefault("now", KIOSK_NOW)
    return store.cast(
        demo_selections(store, n), identity=resident(n), lang="fr", clock="agent", **kwargs
    )


def _count(store, table="records"):
    return store.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _snapshot(store):
    q = store.db.execute
    return (
        q("SELECT seq, hash FROM records ORDER BY seq").fetchall(),
        q("SELECT * FROM head").fetchall(),
        sorted(q("SELECT tag FROM voter_tags").fetchall()),
    )


def test_a_cast_commits_a_signed_chained_ballot_and_returns_its_receipt(kiosk_store):
    receipt = _cast(kiosk_store, 1)
    body_bytes, signature = kiosk_store.db.execute(
        "SELECT body, signature FROM records WHERE seq = ?", (receipt.seq,)
    ).fetchone()
    body = parse_canonical(body_bytes)
    assert body["type"] == "ballot" and body["ballot"] == receipt.ballot_id
    assert body["time"] == "2026-05-12T10:00"  # quarter hour, election time zone
    assert records.record_hash(body_bytes) == receipt.hash
    assert receipt.code == tags.receipt_code(kiosk_store.receipt_key, receipt.ballot_id)
    assert len(signature) == 64
    assert kiosk_store.check().ballots == 1


def test_a_second_vote_is_refused_even_spelt_differently(kiosk_store):
    _cast(kiosk_store, 1)
    before = _snapshot(kiosk_store)
    same = resident(1)
    same["last_name"] = same["last_name"].upper()
    same["first_name"] = same["first_name"].replace("ï", "i")
    tag = kiosk_store.tag_for(same)
    assert kiosk_store.has_voted(tag)
    with pytest.raises(AlreadyVoted):
        kiosk_store.cast(demo_selections(kiosk_store), identity=same, lang="en", now=KIOSK_NOW,
                         clock="agent")  # fmt: skip
    assert _snapshot(kiosk_store) == before


@pytest.mark.parametrize("table", ["voter_tags", "head"])
def test_a_failure_mid_cast_leaves_nothing_half_written(kiosk_store, table):
    _cast(kiosk_store, 1)
    before = _snapshot(kiosk_store)
    # A real trigger makes SQLite fail on the last writes of the cast, after the record insert.
    for event in ("INSERT", "UPDATE"):
        kiosk_store.db.execute(
            f"CREATE TRIGGER fail_{event} BEFORE {event} ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )
    with pytest.raises(StoreFailed, match="injected failure"):
        _cast(kiosk_store, 2)
    assert _snapshot(kiosk_store) == before
    for event in ("INSERT", "UPDATE"):
        kiosk_store.db.execute(f"DROP TRIGGER fail_{event}")
    receipt = _cast(kiosk_store, 2)
    assert receipt.seq == before[0][-1][0] + 1
    assert kiosk_store.check().ballots == 2


def test_the_identity_never_reaches_the_database_files(kiosk_store, store_home):
    identity = resident(3, last_name="Zubiriaurre", first_name="Gwendoline")
    kiosk_store.cast(demo_selections(kiosk_store), identity=identity, lang="eu", now=KIOSK_NOW,
                     clock="agent")  # fmt: skip
    raw = b"".join(p.read_bytes() for p in store_home.glob("kiosk.db*"))
    assert len(raw) > 4096
    for needle in (
        "Zubiriaurre",
        "zubiriaurre",
        "Gwendoline",
        "gwendoline",
        identity["birth_date"],
    ):
        assert needle.encode() not in raw
    # Only the keyed tag is kept, and the record holds it sealed, not in clear.
    tag = kiosk_store.tag_for(identity)
    assert tag in raw
    body = kiosk_store.db.execute("SELECT body FROM records WHERE kind = 'ballot'").fetchone()[0]
    assert tag.hex().encode() not in body and tag not in body


def test_voter_tags_are_an_unordered_set():
    sql = "CREATE TABLE voter_tags (tag BLOB PRIMARY KEY"
    from kiosk.migrations import MIGRATIONS

    script = MIGRATIONS[0][2]
    line = next(line for line in script.splitlines() if line.startswith(sql))
    assert line.rstrip(";").endswith("WITHOUT ROWID")


def test_no_cast_without_an_open_session(kiosk_store):
    count, head = kiosk_store.close_session(KIOSK_NOW, clock="agent")
    assert count == 0
    with pytest.raises(StandClosed, match="no session is open"):
        _cast(kiosk_store, 1)
    with pytest.raises(SessionError):
        kiosk_store.close_session(KIOSK_NOW, clock="agent")
    kiosk_store.open_session(KIOSK_NOW, clock="agent")
    with pytest.raises(SessionError, match="already open"):
        kiosk_store.open_session(KIOSK_NOW, clock="agent")


def test_close_reports_count_and_the_head_of_the_close_record(kiosk_store):
    for n in range(3):
        _cast(kiosk_store, n)
    count, head = kiosk_store.close_session(KIOSK_NOW + timedelta(hours=2), clock="agent")
    body = parse_canonical(
        kiosk_store.db.execute("SELECT body FROM records ORDER BY seq DESC LIMIT 1").fetchone()[0]
    )
    assert count == 3 and head == kiosk_store.status(KIOSK_NOW).head
    assert (body["type"], body["ballots"], body["voids"], body["total"]) == (
        "session_close",
        3,
        0,
        3,
    )
    assert body["time"] == "2026-05-12T12:07"


def test_void_last_within_the_window_frees_the_resident_to_vote_again(kiosk_store):
    receipt = _cast(kiosk_store, 5)
    seq, _ = kiosk_store.void_last("wrong choice", now=KIOSK_NOW + timedelta(seconds=60),
                                   window_seconds=300)  # fmt: skip
    assert seq == receipt.seq + 1
    body = parse_canonical(kiosk_store.db.execute("SELECT body FROM records WHERE seq = ?",
                                                  (seq,)).fetchone()[0])  # fmt: skip
    assert (body["type"], body["ballot"]) == ("void", receipt.ballot_id)
    assert _count(kiosk_store, "voter_tags") == 0
    with pytest.raises(VoidRefused, match="already voided"):
        kiosk_store.void_last("again", now=KIOSK_NOW, window_seconds=300)
    again = _cast(kiosk_store, 5)
    assert again.seq == seq + 1
    report = kiosk_store.check()
    assert (report.ballots, report.voids) == (2, 1)


def test_void_refused_past_the_window_or_after_a_restart(kiosk_store, store_home):
    _cast(kiosk_store, 1)
    with pytest.raises(VoidRefused, match="too late"):
        kiosk_store.void_last("late", now=KIOSK_NOW + timedelta(seconds=301), window_seconds=300)
    kiosk_store.close()
    store = KioskStore.open(store_home, now=KIOSK_NOW)
    try:
        with pytest.raises(VoidRefused, match="since this kiosk started"):
            store.void_last("restart", now=KIOSK_NOW, window_seconds=300)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"birth_date": "2020-01-01"}, "too_young"),
        ({"postcode": "75011"}, "outside_area"),
        ({"declaration": False}, "no_declaration"),
        ({"first_name": "  "}, "missing"),
        ({"birth_date": "31/02/1980"}, "bad_date"),
    ],
)
def test_ineligible_residents_are_refused_with_a_reason_and_nothing_stored(
    kiosk_store, change, code
):
    before = _snapshot(kiosk_store)
    identity = resident(1, **change)
    with pytest.raises(Ineligible) as info:
        kiosk_store.eligibility(identity, today=KIOSK_NOW.date())
    assert info.value.code == code and info.value.reason
    with pytest.raises(Ineligible):
        kiosk_store.cast(demo_selections(kiosk_store), identity=identity, lang="fr",
                         now=KIOSK_NOW, clock="agent")  # fmt: skip
    assert _snapshot(kiosk_store) == before


def test_french_birth_dates_are_read_and_the_age_counts_on_the_voting_day(kiosk_store):
    eleventh = KIOSK_NOW.date().replace(year=KIOSK_NOW.year - 11)
    kiosk_store.eligibility(resident(1, birth_date=eleventh.strftime("%d/%m/%Y")),
                            today=KIOSK_NOW.date())  # fmt: skip
    with pytest.raises(Ineligible, match="at least 11"):
        kiosk_store.eligibility(resident(1, birth_date=(eleventh + timedelta(days=1)).isoformat()),
                                today=KIOSK_NOW.date())  # fmt: skip


@given(st.dates(min_value=date(1900, 1, 1)), st.dates(min_value=date(1900, 1, 1)))
def test_age_matches_counting_birthdays(birth, day):
    age = age_on(birth, day)
    if day < birth:
        assert age < 0
        return
    # The age is the number of birthdays passed (29 February counts on 1 March).
    passed = 0
    for year in range(birth.year + 1, day.year + 1):
        try:
            birthday = birth.replace(year=year)
        except ValueError:
            birthday = date(year, 3, 1)
        passed += birthday <= day
    assert age == passed


def test_invalid_selections_are_refused_and_nothing_stored(kiosk_store):
    before = _snapshot(kiosk_store)
    bad = demo_selections(kiosk_store)
    bad["departement"] = ["D01", "D02", "D03", "D04"]
    with pytest.raises(SelectionError, match="departement"):
        kiosk_store.cast(bad, identity=resident(1), lang="fr", now=KIOSK_NOW, clock="agent")
    assert _snapshot(kiosk_store) == before


def test_threads_sharing_a_store_keep_one_linear_chain(kiosk_store):
    errors = []

    def worker(base):
        try:
            for i in range(8):
                _cast(kiosk_store, base + i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(100 * t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert kiosk_store.check().ballots == 32


TAMPERING = {
    "altered selections": "UPDATE records SET body = CAST(replace(body, 'D0', 'D9') AS BLOB) WHERE kind = 'ballot'",
    "body stored as text": "UPDATE records SET body = CAST(body AS TEXT) WHERE seq = 1",
    "swapped signature": "UPDATE records SET signature = (SELECT signature FROM records WHERE seq = 1) WHERE seq = 2",
    "deleted record": "DELETE FROM records WHERE seq = 2",
    "head moved back": "UPDATE head SET seq = 2, hash = (SELECT hash FROM records WHERE seq = 2)",
    "tag removed": "DELETE FROM voter_tags",
    "tag added": "INSERT INTO voter_tags VALUES (randomblob(32))",
    "column edited": "UPDATE records SET ballot_id = NULL WHERE seq = 2",
}


@pytest.mark.parametrize("sql", TAMPERING.values(), ids=TAMPERING.keys())
def test_a_tampered_database_is_refused_at_start(kiosk_store, store_home, sql):
    for n in range(3):
        _cast(kiosk_store, n)
    kiosk_store.close()
    conn = sqlite3.connect(store_home / "kiosk.db")
    with conn:
        # A tamperer can drop our append-only triggers; the chain check must still catch it.
        conn.execute("DROP TRIGGER records_no_update")
        conn.execute("DROP TRIGGER records_no_delete")
        conn.execute("PRAGMA foreign_keys = OFF")
        assert conn.execute(sql).rowcount >= 1
    conn.close()
    with pytest.raises(ChainBroken):
        KioskStore.open(store_home, now=KIOSK_NOW)


def test_a_corrupt_database_file_is_refused(kiosk_store, store_home):
    for n in range(20):
        _cast(kiosk_store, n)
    root = kiosk_store.db.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'records'"
    ).fetchone()[0]
    page = kiosk_store.db.execute("PRAGMA page_size").fetchone()[0]
    kiosk_store.close()  # the last connection folds the WAL back into the file
    path = store_home / "kiosk.db"
    data = bytearray(path.read_bytes())
    data[(root - 1) * page] = 0x07  # not a b-tree page type
    path.write_bytes(bytes(data))
    with pytest.raises(StoreCorrupt):
        KioskStore.open(store_home, now=KIOSK_NOW)


def test_a_database_of_another_device_is_refused(kiosk_store, store_home):
    kiosk_store.db.execute("UPDATE meta SET value = 'other-1' WHERE key = 'device'")
    kiosk_store.close()
    with pytest.raises(NotSetUp, match="another device"):
        KioskStore.open(store_home, now=KIOSK_NOW)


def test_not_a_kiosk_folder(tmp_path):
    with pytest.raises(NotSetUp, match="not a kiosk"):
        KioskStore.open(tmp_path)


def test_status_counts_today_and_in_total(kiosk_store):
    _cast(kiosk_store, 1)
    _cast(kiosk_store, 2, now=KIOSK_NOW + timedelta(days=1))
    st = kiosk_store.status(KIOSK_NOW + timedelta(days=1))
    assert (st.ballots_today, st.ballots_total, st.records) == (1, 2, 3)
    assert st.device == "demo-1" and st.epoch == 1 and st.session.open
    assert st.fingerprint == kiosk_store.certificate.fingerprint and st.free_disk > 0
    assert st.last_export is None and st.chain.records == 0


def test_paper_ballots_and_bad_fields(kiosk_store):
    receipt = kiosk_store.cast(demo_selections(kiosk_store), identity=resident(4), lang="oc",
                               channel="paper", now=KIOSK_NOW, clock="agent")  # fmt: skip
    body = parse_canonical(kiosk_store.db.execute("SELECT body FROM records WHERE seq = ?",
                                                  (receipt.seq,)).fetchone()[0])  # fmt: skip
    assert (body["channel"], body["lang"]) == ("paper", "oc")
    before = _snapshot(kiosk_store)
    for bad in ({"lang": "de"}, {"channel": "post"}, {"clock": "sundial"}):
        kwargs = {"lang": "fr", "channel": "kiosk", "clock": "agent", **bad}
        with pytest.raises(RecordError):
            kiosk_store.cast(demo_selections(kiosk_store), identity=resident(5), now=KIOSK_NOW,
                             **kwargs)  # fmt: skip
    assert _snapshot(kiosk_store) == before


def test_voting_outside_the_window_is_refused(kiosk_store):
    with pytest.raises(StandClosed, match="voting is closed"):
        _cast(kiosk_store, 1, now=KIOSK_NOW + timedelta(days=90))


def test_an_injected_rng_makes_the_record_reproducible(store_home, tmp_path):
    import random
    import shutil

    bodies = []
    for copy in ("a", "b"):
        home = shutil.copytree(store_home, tmp_path / copy)
        store = KioskStore.open(home, now=KIOSK_NOW)
        store.open_session(KIOSK_NOW, clock="agent")
        _cast(store, 1, rng=random.Random(5))
        bodies.append(store.db.execute("SELECT body FROM records WHERE seq = 2").fetchone()[0])
        store.close()
    assert bodies[0] == bodies[1]


def test_a_revoked_device_cannot_open_its_stand(store_template, store_home):
    from sync import crypto, enroll
    from sync.errors import RevokedError

    authority = store_template["authority"]
    data = enroll.build_revocations(
        store_template["election"],
        authority_key=crypto.load_private_key(authority.authority_key),
        revoked=[{"device": "demo-1", "epoch": 1, "reason": "stolen at the market"}],
        serial=1,
    )
    (store_home / "revocations.urne").write_bytes(data)
    with pytest.raises(RevokedError, match="stolen at the market"):
        KioskStore.open(store_home, now=KIOSK_NOW)


OPS = ("cast_new", "cast_again", "void", "close", "open", "restart")
_RUNS = itertools.count()


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.sampled_from(OPS), max_size=14))
def test_any_sequence_of_agent_and_resident_actions_keeps_the_chain_whole(
    store_template, tmp_path, ops
):
    import shutil

    home = tmp_path / f"run-{next(_RUNS)}"
    shutil.copytree(store_template["home"], home)
    store = KioskStore.open(home, now=KIOSK_NOW)
    model = {"open": False, "voted": [], "ballots": 0, "voids": 0, "voidable": None}
    fresh = itertools.count(1)
    try:
        for op in ops:
            if op == "restart":
                store.close()
                store = KioskStore.open(home, now=KIOSK_NOW)
                model["voidable"] = None
            elif op in ("open", "close"):
                wanted = op == "open"
                if model["open"] == wanted:
                    with pytest.raises(SessionError):
                        getattr(store, f"{op}_session")(KIOSK_NOW, clock="agent")
                else:
                    getattr(store, f"{op}_session")(KIOSK_NOW, clock="agent")
                    model["open"], model["voidable"] = wanted, None
            elif op == "void":
                if not model["open"]:
                    with pytest.raises(StandClosed):
                        store.void_last("asked", now=KIOSK_NOW, window_seconds=60)
                elif model["voidable"] is None:
                    with pytest.raises(VoidRefused):
                        store.void_last("asked", now=KIOSK_NOW, window_seconds=60)
                else:
                    store.void_last("asked", now=KIOSK_NOW, window_seconds=60)
                    model["voted"].remove(model["voidable"])
                    model["voids"] += 1
                    model["voidable"] = None
            else:
                n = model["voted"][-1] if op == "cast_again" and model["voted"] else next(fresh)
                if not model["open"]:
                    with pytest.raises(StandClosed):
                        _cast(store, n)
                elif n in model["voted"]:
                    with pytest.raises(AlreadyVoted):
                        _cast(store, n)
                else:
                    _cast(store, n)
                    model["voted"].append(n)
                    model["ballots"] += 1
                    model["voidable"] = n
        report = store.check()
        assert (report.ballots, report.voids) == (model["ballots"], model["voids"])
        assert store.session().open == model["open"]
    finally:
        store.close()


def test_tag_for_an_incomplete_identity_says_what_is_missing(kiosk_store):
    identity = resident(1)
    del identity["postcode"]
    with pytest.raises(Ineligible, match="postcode") as info:
        kiosk_store.tag_for(identity)
    assert info.value.code == "missing"
    # Extra keys (the declaration box) and date spelling do not change the tag.
    same = dict(resident(1), declaration=False)
    y, m, d = same["birth_date"].split("-")
    same["birth_date"] = f"{d}/{m}/{y}"
    assert kiosk_store.tag_for(same) == kiosk_store.tag_for(resident(1))


def test_a_cast_by_tag_counts_as_the_identity_it_came_from(kiosk_store):
    tag = kiosk_store.tag_for(resident(1))
    receipt = kiosk_store.cast(
        demo_selections(kiosk_store, 1), tag=tag, lang="fr", clock="agent", now=KIOSK_NOW
    )
    assert kiosk_store.has_voted(tag) and kiosk_store.check().ballots == 1
    assert receipt.code == tags.receipt_code(kiosk_store.receipt_key, receipt.ballot_id)
    before = _snapshot(kiosk_store)
    # The same person cast by identity (the paper entry's way) is the same voter.
    with pytest.raises(AlreadyVoted):
        _cast(kiosk_store, 1)
    assert _snapshot(kiosk_store) == before


@pytest.mark.parametrize(
    "kwargs, why",
    [
        ({}, "neither"),
        ({"tag": b"\0" * 32, "identity": {"last_name": "x"}}, "both"),
        ({"tag": b"short"}, "32 bytes"),
        ({"tag": "a" * 32}, "32 bytes"),
    ],
)
def test_a_cast_needs_exactly_one_identity_or_a_32_byte_tag(kiosk_store, kwargs, why):
    before = _snapshot(kiosk_store)
    with pytest.raises(RecordError, match=why):
        kiosk_store.cast(
            demo_selections(kiosk_store, 1), lang="fr", clock="agent", now=KIOSK_NOW, **kwargs
        )
    assert _snapshot(kiosk_store) == before
