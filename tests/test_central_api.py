"""The push endpoint over a real central database, real signed bundles and real signed requests."""

import re
from datetime import timedelta

import pytest
from fixtures_central import downgrade
from fixtures_central_web import NOW, central_app, central_for, db_state, push
from fixtures_records import golden_bundle, make_enrolled
from test_tamper import CASES, Parts

from sync import enroll
from sync.central_home import install_revocations
from sync.push import PATH


@pytest.fixture
def kit(central_kit):
    return central_kit(devices=("k1", "k2"))


@pytest.fixture
def client(kit):
    app = central_app(kit.home)
    return app.test_client()


def events(n, voter="v", start=1):
    return [("open", "2026-05-16T09:00")] + [
        ("ballot", f"{voter}{i}", "kiosk", "2026-05-16T10:00") for i in range(start, start + n)
    ]


def records_count(home):
    import sqlite3

    with sqlite3.connect(home / "central.db") as conn:
        return conn.execute("SELECT count(*) FROM records").fetchone()[0]


def test_a_signed_push_imports_the_bundle(kit, client):
    recs = kit.chain("k1", events(4))
    r, _ = push(client, kit.devices["k1"], kit.bundle("k1", recs))
    assert r.status_code == 200, r.json
    assert r.json["ok"] is True
    assert r.json["status"] == "imported"
    assert (r.json["device"], r.json["epoch"], r.json["records_new"], r.json["last"]) == (
        "k1",
        1,
        5,
        5,
    )
    assert r.json["server_time"] == "2026-05-16T12:00:00Z"
    assert r.headers["Content-Type"] == "application/json"
    assert records_count(kit.home) == 5


def test_a_retry_after_a_lost_answer_is_harmless(kit, client):
    path = kit.bundle("k1", kit.chain("k1", events(3)))
    push(client, kit.devices["k1"], path, seed=1)
    before = records_count(kit.home)
    r, _ = push(client, kit.devices["k1"], path, seed=2)  # fresh nonce, same bytes
    assert r.status_code == 200
    assert (r.json["status"], r.json["records_new"], r.json["records_present"]) == (
        "already-present",
        0,
        4,
    )
    assert records_count(kit.home) == before


def test_pieces_of_a_chain_show_a_gap_then_complete(kit, client):
    recs = kit.chain("k1", events(5))
    r, _ = push(client, kit.devices["k1"], kit.bundle("k1", recs, first=4, last=6), seed=1)
    assert (r.status_code, r.json["state"]) == (200, "gap")
    r, _ = push(client, kit.devices["k1"], kit.bundle("k1", recs, first=1, last=3), seed=2)
    assert (r.status_code, r.json["state"], r.json["records_new"]) == (200, "complete", 3)


def test_a_replayed_request_is_refused_and_changes_nothing(kit, client):
    path = kit.bundle("k1", kit.chain("k1", events(2)))
    first, headers = push(client, kit.devices["k1"], path)
    assert first.status_code == 200
    before = db_state(kit.home)
    again = client.post(PATH, data=path.read_bytes(), headers=headers)
    assert (again.status_code, again.json["error"]) == (409, "replayed")
    assert again.json["where"] == "Urne-Nonce"
    assert db_state(kit.home) == before


def test_nonces_survive_a_restart_of_the_server(kit):
    path = kit.bundle("k1", kit.chain("k1", events(2)))
    _, headers = push(central_app(kit.home).test_client(), kit.devices["k1"], path)
    again = central_app(kit.home).test_client().post(PATH, data=path.read_bytes(), headers=headers)
    assert (again.status_code, again.json["error"]) == (409, "replayed")


def test_wrong_content_type_is_refused(kit, client):
    path = kit.bundle("k1", kit.chain("k1", events(2)))
    before = db_state(kit.home)
    r, _ = push(client, kit.devices["k1"], path, headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json["error"], r.json["where"]) == (400, "bad-request", "Content-Type")
    assert "expected application/zip, got application/json" in r.json["message"]
    assert db_state(kit.home) == before


def test_malformed_body_is_refused_as_a_bad_bundle(kit, client):
    push(client, kit.devices["k1"], kit.bundle("k1", kit.chain("k1", events(1))))  # now known
    before = db_state(kit.home)
    r, _ = push(client, kit.devices["k1"], b"PK\x03\x04 this is not a bundle", seed=9)
    assert (r.status_code, r.json["error"]) == (422, "bad-bundle")
    assert "truncated archive" in r.json["message"] or "not a zip" in r.json["message"]
    assert db_state(kit.home) == before


@pytest.mark.parametrize(
    "header, value",
    [("Urne-Epoch", "01"), ("Urne-Nonce", "xyz"), ("Urne-Time", "hier"), ("Urne-Signature", "00")],
)
def test_malformed_headers_say_which(kit, client, header, value):
    path = kit.bundle("k1", kit.chain("k1", events(1)))
    before = db_state(kit.home)
    r, _ = push(client, kit.devices["k1"], path, headers={header: value})
    assert (r.status_code, r.json["error"], r.json["where"]) == (400, "bad-request", header)
    assert db_state(kit.home) == before


def test_body_not_matching_its_hash_is_refused(kit, client):
    path = kit.bundle("k1", kit.chain("k1", events(1)))
    _, headers = push(client, kit.devices["k2"], b"x", seed=4)
    r = client.post(PATH, data=path.read_bytes(), headers=headers)
    assert (r.status_code, r.json["error"]) == (400, "bad-request")
    assert "body does not match its hash" in r.json["message"]


def test_upload_over_the_size_limit_is_refused_with_json(kit):
    client = central_app(kit.home, MAX_CONTENT_LENGTH=4096).test_client()
    before = db_state(kit.home)
    r, _ = push(client, kit.devices["k1"], b"PK" + bytes(5000))
    assert (r.status_code, r.json["ok"], r.json["error"]) == (413, False, "too-large")
    assert db_state(kit.home) == before


def test_stale_request_time_is_refused_with_the_central_time(kit, client):
    path = kit.bundle("k1", kit.chain("k1", events(1)))
    r, _ = push(client, kit.devices["k1"], path, now=NOW - timedelta(minutes=11))
    assert (r.status_code, r.json["error"]) == (401, "stale-time")
    assert "2026-05-16T12:00:00Z" in r.json["message"]


def test_a_request_signed_by_another_key_is_refused(kit, client):
    path = kit.bundle("k1", kit.chain("k1", events(1)))
    push(client, kit.devices["k1"], path, seed=1)  # k1's certificate is now stored
    impostor = type(kit.devices["k2"])(**{**vars(kit.devices["k2"]), "device": "k1"})
    r, _ = push(client, impostor, path, seed=2)
    assert (r.status_code, r.json["error"]) == (401, "bad-signature")


def test_unknown_device_is_refused(kit, client, tmp_path):
    stranger = make_enrolled(tmp_path / "stranger", seed=9, device="k9")
    path = golden_bundle(stranger, tmp_path / "s.zip")
    before = db_state(kit.home)
    r, _ = push(client, stranger, path)
    assert (r.status_code, r.json["error"]) == (401, "unknown-device")
    assert db_state(kit.home) == before


def test_a_device_name_without_its_certificate_is_unknown(kit, client):
    path = kit.bundle("k1", kit.chain("k1", events(1)))
    r, _ = push(client, kit.devices["k1"], path, device="k7")
    assert (r.status_code, r.json["error"]) == (401, "unknown-device")


def test_revoked_device_is_refused(kit, client):
    path = kit.bundle("k1", kit.chain("k1", events(1)))
    data = enroll.build_revocations(
        kit.election, authority_key=kit.authority_key,
        revoked=[{"device": "k1", "epoch": 1, "reason": "volé"}], serial=1,
    )  # fmt: skip
    install_revocations(kit.home, data)
    before = db_state(kit.home)
    r, _ = push(client, kit.devices["k1"], path)
    assert (r.status_code, r.json["error"]) == (403, "revoked")
    assert "volé" in r.json["message"]
    assert db_state(kit.home) == before


def test_a_bundle_of_another_device_than_the_request_is_refused(kit, client):
    push(client, kit.devices["k2"], kit.bundle("k2", kit.chain("k2", events(1))), seed=1)
    path = kit.bundle("k1", kit.chain("k1", events(1)))
    before = db_state(kit.home)
    r, _ = push(client, kit.devices["k2"], path, seed=2)
    assert (r.status_code, r.json["error"], r.json["where"]) == (422, "bad-bundle", "Urne-Device")
    assert db_state(kit.home) == before


def test_a_stored_bundle_pushed_by_another_device_is_refused(kit, client):
    path = kit.bundle("k1", kit.chain("k1", events(1)))
    push(client, kit.devices["k1"], path, seed=1)
    push(client, kit.devices["k2"], kit.bundle("k2", kit.chain("k2", events(1))), seed=2)
    r, _ = push(client, kit.devices["k2"], path, seed=3)
    assert (r.status_code, r.json["error"], r.json["where"]) == (422, "bad-bundle", "Urne-Device")


def test_a_corrupt_revocation_list_answers_a_json_500_and_imports_nothing(kit, client):
    (kit.home / "revocations.urne").write_bytes(b"{}")
    before = db_state(kit.home)
    r, _ = push(client, kit.devices["k1"], kit.bundle("k1", kit.chain("k1", events(1))))
    assert (r.status_code, r.json["ok"], r.json["error"]) == (500, False, "internal")
    assert db_state(kit.home) == before


def test_a_fork_is_refused_and_the_device_flagged(kit, client):
    push(client, kit.devices["k1"], kit.bundle("k1", kit.chain("k1", events(3), seed=1)), seed=1)
    r, _ = push(
        client, kit.devices["k1"], kit.bundle("k1", kit.chain("k1", events(3), seed=2)), seed=2
    )
    assert (r.status_code, r.json["error"]) == (409, "fork")
    with kit.open() as c:
        assert {d["device"]: d["state"] for d in c.store.devices()}["k1"] == "fork"
    assert records_count(kit.home) == 4


def test_other_api_paths_answer_json(client):
    r = client.get("/api/v1/nothing")
    assert (r.status_code, r.json["ok"], r.json["error"]) == (404, False, "not-found")
    r = client.get(PATH)
    assert (r.status_code, r.json["ok"], r.json["error"]) == (405, False, "not-allowed")
    assert r.json["server_time"] == "2026-05-16T12:00:00Z"


def test_a_purged_central_answers_closed_and_stores_nothing(kit, client):
    from sync.publish import purge

    first = kit.bundle("k1", kit.chain("k1", events(2)))
    assert push(client, kit.devices["k1"], first)[0].status_code == 200
    with kit.open() as c:
        purge(c, now=NOW)
    before = db_state(kit.home)
    r, _ = push(client, kit.devices["k2"], kit.bundle("k2", kit.chain("k2", events(2))), seed=2)
    assert (r.status_code, r.json["ok"], r.json["error"]) == (409, False, "closed")
    assert "purged" in r.json["message"]
    assert db_state(kit.home) == before


# The trust core's tamper table, through the network endpoint ------------------------------


@pytest.fixture(scope="module")
def tamper(tmp_path_factory):
    root = tmp_path_factory.mktemp("tamper-web")
    ctx = make_enrolled(root / "kiosk")
    golden = golden_bundle(ctx, root / "golden.zip").read_bytes()
    home = central_for(ctx, root / "c")
    client = central_app(home).test_client()
    # A first, valid push: the device is known, so each case reaches the bundle checks.
    first = golden_bundle(ctx, root / "first.zip", n=2, seed=3)
    r, _ = push(client, ctx, first, seed=0)
    assert r.status_code == 200, r.json
    return ctx, golden, home, client


@pytest.mark.parametrize("name, mutate, error, pattern", CASES, ids=[c[0] for c in CASES])
def test_tamper_case_refused_through_the_endpoint(tamper, name, mutate, error, pattern):
    ctx, golden, home, client = tamper
    body = mutate(Parts(ctx, golden), golden)
    before = db_state(home)
    r, _ = push(client, ctx, body, seed=hash(name) & 0xFFFF)
    assert r.status_code == 422, (name, r.json)
    assert r.json["error"] == "bad-bundle"
    assert re.search(pattern, r.json["message"]), r.json["message"]
    assert db_state(home) == before
    assert not list((home / "bundles").glob(".incoming-*"))


def test_the_golden_bundle_itself_is_accepted_through_the_endpoint(tamper):
    ctx, golden, home, client = tamper
    r, _ = push(client, ctx, golden, seed=77)
    # The first push held records 1-2 of the same chain: the rest is new.
    assert (r.status_code, r.json["status"], r.json["records_new"]) == (200, "imported", 4)


def _downgrade_to_schema_1(home, *, keep_nonces):
    """Make `home`'s database what a central before migration 2 left: user_version 1."""
    import sqlite3

    downgrade(home, 2)
    with sqlite3.connect(home / "central.db") as conn:
        if not keep_nonces:
            conn.execute("DROP TABLE push_nonces")
        conn.execute("PRAGMA user_version = 1")


def test_migration_2_adds_the_nonce_table_to_a_database_holding_ballots(kit):
    import sqlite3

    from sync.central_schema import MIGRATIONS

    first = kit.bundle("k1", kit.chain("k1", events(3)))
    assert push(central_app(kit.home).test_client(), kit.devices["k1"], first)[0].status_code == 200
    _downgrade_to_schema_1(kit.home, keep_nonces=False)
    before = db_state(kit.home)
    assert records_count(kit.home) == 4
    client = central_app(kit.home).test_client()
    second = kit.bundle("k2", kit.chain("k2", events(2)))
    assert push(client, kit.devices["k2"], second, seed=2)[0].status_code == 200
    with sqlite3.connect(kit.home / "central.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("SELECT count(*) FROM push_nonces").fetchone()[0] == 1
    after = db_state(kit.home)
    # The ballots of before are all still there; the second push added to them.
    assert records_count(kit.home) == 7 and after["devices"] != before["devices"]


def test_migration_2_keeps_nonces_a_central_recorded_before_it(kit):
    # Centrals before migration 2 made the table at app start, at user_version 1.
    path = kit.bundle("k1", kit.chain("k1", events(2)))
    _, headers = push(central_app(kit.home).test_client(), kit.devices["k1"], path)
    _downgrade_to_schema_1(kit.home, keep_nonces=True)
    again = central_app(kit.home).test_client().post(PATH, data=path.read_bytes(), headers=headers)
    assert (again.status_code, again.json["error"]) == (409, "replayed")


def test_pages_and_pushes_take_no_write_lock_when_the_schema_is_current(kit):
    import sqlite3

    path = kit.bundle("k1", kit.chain("k1", events(2)))
    holder = sqlite3.connect(kit.home / "central.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another importer holds the write lock
    try:
        client = central_app(kit.home, CENTRAL_DB_TIMEOUT=0.5).test_client()
        for url in ("/healthz", "/resultats", "/recu"):
            assert client.get(url).status_code == 200, url
        # A push needs the lock for its nonce: it waits, then answers a clean JSON 500.
        r, _ = push(client, kit.devices["k1"], path)
        assert (r.status_code, r.json["error"]) == (500, "internal")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert push(client, kit.devices["k1"], path, seed=2)[0].status_code == 200


def test_a_request_opens_the_central_store_once(kit):
    import central

    app = central_app(kit.home)
    with app.test_request_context("/organisateur/doublons"):
        first = central.store()
        assert central.store() is first and central.central().store is first
    # Closed at the end of the request: the next one opens its own.
    with app.test_request_context("/"):
        assert central.store() is not first
