"""kiosk/push.py against a tiny real HTTP server on loopback that checks with sync/push.py."""

import json
import random
import socket
import tempfile
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fixtures_kiosk import KIOSK_NOW, demo_selections, resident

from kiosk.push import SyncError, SyncOffline, SyncRefused, bundles_url, push_bundle, sync_now
from sync import crypto
from sync.bundle import verify_bundle
from sync.errors import EnrollmentError, PushError, SignatureError, UrneError
from sync.push import (
    NonceMemory,
    ReplayedPushError,
    StalePushError,
    format_time,
    sign_push,
    verify_push,
)

SERVER_NOW = datetime(2026, 5, 16, 9, 30, 0, tzinfo=UTC)
KEY = crypto.generate_signing_key()
BODY = b"PK\x05\x06" + bytes(18)  # an empty zip: the protocol does not look inside


class Central:
    """What the central's endpoint does with a push, minus the bundle import (docs/sync-protocol.md)."""

    def __init__(self):
        self.nonces = NonceMemory()
        self.bundles = set()
        self.drop_next = 0
        self.lose_answer = 0
        self.election = None
        self.garbage = False
        self.hits = 0

    def lookup(self, device, epoch):
        if (device, epoch) != ("stand-01", 1):
            raise EnrollmentError("unknown device", where=device)
        return crypto.public_bytes(KEY)

    def answer(self, headers, body):
        if headers.get("Content-Type") != "application/zip":
            return 400, {"ok": False, "error": "bad-request", "message": "wrong content type"}
        try:
            device, epoch = verify_push(
                headers, body, self.lookup, now=SERVER_NOW, seen_nonce=self.nonces
            )
        except StalePushError as exc:
            return 401, {"ok": False, "error": "stale-time", "message": str(exc)}
        except ReplayedPushError as exc:
            return 409, {"ok": False, "error": "replayed", "message": str(exc)}
        except PushError as exc:
            return 400, {"ok": False, "error": "bad-request", "message": str(exc)}
        except EnrollmentError as exc:
            return 401, {"ok": False, "error": "unknown-device", "message": str(exc)}
        except SignatureError as exc:
            return 401, {"ok": False, "error": "bad-signature", "message": str(exc)}
        count, head = 3, "ab" * 32
        if self.election is not None:
            # A real bundle: verified completely, and it must be the signing device's.
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "push.urne"
                path.write_bytes(body)
                try:
                    bundle = verify_bundle(path, self.election)
                except UrneError as exc:
                    return 422, {"ok": False, "error": "bad-bundle", "message": str(exc)}
            if (bundle.device, bundle.epoch) != (device, epoch):
                return 422, {"ok": False, "error": "bad-bundle", "message": "another device"}
            count, head = bundle.count, bundle.head
        digest = crypto.sha256_hex(body)
        status = "already-present" if digest in self.bundles else "imported"
        self.bundles.add(digest)
        return 200, {
            "ok": True,
            "status": status,
            "device": device,
            "epoch": epoch,
            "records_new": count if status == "imported" else 0,
            "records_present": 0 if status == "imported" else count,
            "head": head,
            "server_time": format_time(SERVER_NOW),
        }


@pytest.fixture
def central():
    state = Central()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            state.hits += 1
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if state.drop_next:
                # Drop the connection after the request arrived, before any answer.
                state.drop_next -= 1
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if self.path != "/api/v1/bundles":
                code, answer = 404, {"ok": False, "error": "not-found"}
            else:
                code, answer = state.answer(self.headers, body)
            if state.lose_answer:
                # Imported, but the answer is lost on the way back.
                state.lose_answer -= 1
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            raw = b"<html>proxy error</html>" if state.garbage else json.dumps(answer).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def push(url, *, now=SERVER_NOW, rng=None, **kw):
    return push_bundle(
        url, BODY, device_key=KEY, device="stand-01", epoch=1, now=lambda: now, rng=rng, **kw
    )


def raw_post(url, body, headers):
    request = urllib.request.Request(url + "/api/v1/bundles", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_push_is_accepted_then_counted_as_already_present(central):
    first = push(central.url)
    assert (first.status, first.new, first.present) == ("imported", 3, 0)
    assert first.head == "ab" * 32
    again = push(central.url)
    assert (again.status, again.new, again.present) == ("already-present", 0, 3)


def test_a_replayed_request_is_refused(central):
    headers = sign_push(KEY, "stand-01", 1, BODY, now=SERVER_NOW)
    assert raw_post(central.url, BODY, headers)[0] == 200
    status, answer = raw_post(central.url, BODY, headers)
    assert (status, answer["error"]) == (409, "replayed")


def test_a_client_reusing_a_nonce_gets_the_refusal_in_words(central):
    push(central.url, rng=random.Random(7))
    with pytest.raises(SyncRefused) as err:
        push(central.url, rng=random.Random(7))
    assert (err.value.status, err.value.code) == (409, "replayed")


def test_a_tampered_body_is_refused(central):
    headers = sign_push(KEY, "stand-01", 1, BODY, now=SERVER_NOW)
    status, answer = raw_post(central.url, BODY + b"\x00", headers)
    assert (status, answer["error"]) == (400, "bad-request")
    assert "body does not match its hash" in answer["message"]
    assert central.bundles == set()


def test_a_body_and_hash_both_replaced_fail_the_signature(central):
    headers = sign_push(KEY, "stand-01", 1, BODY, now=SERVER_NOW)
    other = BODY + b"\x00"
    headers["Urne-Body-SHA256"] = crypto.sha256_hex(other)
    status, answer = raw_post(central.url, other, headers)
    assert (status, answer["error"]) == (401, "bad-signature")


@pytest.mark.parametrize("minutes", [-11, 11])
def test_a_stale_kiosk_clock_is_refused(central, minutes):
    with pytest.raises(SyncRefused) as err:
        push(central.url, now=SERVER_NOW + timedelta(minutes=minutes))
    assert (err.value.status, err.value.code) == (401, "stale-time")
    assert central.bundles == set()


def test_an_unknown_device_is_refused(central):
    with pytest.raises(SyncRefused) as err:
        push_bundle(
            central.url,
            BODY,
            device_key=KEY,
            device="stand-99",
            epoch=1,
            now=lambda: SERVER_NOW,
        )
    assert err.value.code == "unknown-device"


def test_a_dropped_connection_is_retried_with_a_fresh_nonce(central):
    central.drop_next = 1
    answer = push(central.url)
    assert answer.status == "imported"
    assert central.hits == 2
    assert len(central.nonces.seen) == 1


def test_without_retries_a_dropped_connection_reads_as_offline(central):
    central.drop_next = 1
    with pytest.raises(SyncOffline, match="connection dropped"):
        push(central.url, retries=0)


def test_no_network_reads_as_offline():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on that port any more: connection refused.
    with pytest.raises(SyncOffline, match="cannot be reached"):
        push(f"http://127.0.0.1:{port}")


def test_a_silent_central_times_out_as_offline():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with pytest.raises(SyncOffline):
            push(f"http://127.0.0.1:{port}", timeout=0.3)


def test_a_non_json_answer_is_an_error(central):
    central.garbage = True
    with pytest.raises(SyncError, match="not JSON"):
        push(central.url)


@pytest.mark.parametrize("url", [None, "", "ftp://central", "central.example", "file:///etc"])
def test_an_unusable_central_address_is_refused(url):
    with pytest.raises(SyncError, match="central address is not usable"):
        bundles_url(url)


def test_the_endpoint_is_under_the_configured_address():
    assert bundles_url("https://bp.example/urne/") == "https://bp.example/urne/api/v1/bundles"


# The whole "Sync now": a real kiosk store's bundle, verified at the other end.


@pytest.fixture
def kiosk_central(central, kiosk_store):
    """The loopback central, knowing the kiosk's enrolled key and verifying real bundles."""
    central.election = kiosk_store.election
    central.lookup = lambda device, epoch: (
        bytes(kiosk_store.certificate.key)
        if (device, epoch) == (kiosk_store.device, kiosk_store.epoch)
        else Central.lookup(central, device, epoch)
    )
    for n in range(3):
        kiosk_store.cast(
            demo_selections(kiosk_store, n),
            identity=resident(n),
            lang="fr",
            now=KIOSK_NOW,
            clock="agent",
        )
    return central


def server_time():
    return SERVER_NOW


def test_sync_now_sends_every_record_and_the_central_verifies_them(kiosk_central, kiosk_store):
    answer, count, head = sync_now(kiosk_store, kiosk_central.url, now=server_time)
    status = kiosk_store.status(KIOSK_NOW)
    assert count == status.records == 4  # session_open and three ballots
    assert head == status.head == answer.head
    assert (answer.status, answer.new) == ("imported", 4)
    # Nothing left behind in the kiosk's folder; a second sync finds everything there.
    assert not list(kiosk_store.home.glob(".push-*"))
    again, _, _ = sync_now(kiosk_store, kiosk_central.url, now=server_time)
    assert (again.status, again.present) == ("already-present", 4)


def test_a_lost_answer_is_retried_and_found_already_present(kiosk_central, kiosk_store):
    kiosk_central.lose_answer = 1
    answer, count, _ = sync_now(kiosk_store, kiosk_central.url, now=server_time)
    assert kiosk_central.hits == 2
    assert (answer.status, answer.present) == ("already-present", count)


def test_sync_now_with_a_stale_clock_is_refused(kiosk_central, kiosk_store):
    with pytest.raises(SyncRefused) as err:
        sync_now(kiosk_store, kiosk_central.url, now=lambda: SERVER_NOW - timedelta(hours=2))
    assert err.value.code == "stale-time"
    assert kiosk_central.bundles == set()


def test_sync_now_to_a_bad_address_writes_nothing(kiosk_store):
    with pytest.raises(SyncError, match="address"):
        sync_now(kiosk_store, "central.example", now=server_time)
    assert not list(kiosk_store.home.glob(".push-*"))


def test_sync_now_against_the_real_central_endpoint(kiosk_store, store_template, tmp_path):
    """Both halves of docs/sync-protocol.md together: kiosk/push.py to central/api.py."""
    from werkzeug.serving import make_server

    from app import create_app
    from sync.central_home import init_central

    paths = store_template["authority"]
    home = tmp_path / "central"
    init_central(home, paths.package, paths.central_key, "correct horse battery staple")
    central_app = create_app({"HOME": str(home), "TESTING": True})
    server = make_server("127.0.0.1", 0, central_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    for n in range(2):
        kiosk_store.cast(
            demo_selections(kiosk_store, n),
            identity=resident(n),
            lang="fr",
            now=KIOSK_NOW,
            clock="agent",
        )
    try:
        answer, count, head = sync_now(kiosk_store, url, now=lambda: datetime.now(UTC))
        assert (answer.status, answer.new, answer.head) == ("imported", 3, head)
        again, _, _ = sync_now(kiosk_store, url, now=lambda: datetime.now(UTC))
        assert (again.status, again.new, again.present) == ("already-present", 0, 3)
        with pytest.raises(SyncRefused) as err:
            sync_now(kiosk_store, url, now=lambda: datetime.now(UTC) + timedelta(minutes=30))
        assert err.value.code == "stale-time"
    finally:
        server.shutdown()
        server.server_close()
