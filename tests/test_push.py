"""sync/push.py: signing and checking push requests (real Ed25519, real clocks injected)."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import crypto
from sync.errors import EnrollmentError, PushError, SignatureError
from sync.push import (
    HEADERS,
    NonceMemory,
    ReplayedPushError,
    StalePushError,
    push_payload,
    sign_push,
    verify_push,
)

NOW = datetime(2026, 5, 16, 9, 30, 0, tzinfo=UTC)
BODY = b"PK\x03\x04 not really a zip, the signature does not care"
KEY = crypto.generate_signing_key()
OTHER = crypto.generate_signing_key()


def lookup(device, epoch):
    if (device, epoch) == ("stand-01", 1):
        return crypto.public_bytes(KEY)
    raise EnrollmentError("unknown device", where=device)


def signed(body=BODY, now=NOW, seed=1, key=KEY, device="stand-01", epoch=1):
    return sign_push(key, device, epoch, body, now=now, rng=random.Random(seed))


def check(headers, body=BODY, now=NOW, seen=None):
    return verify_push(headers, body, lookup, now=now, seen_nonce=seen or NonceMemory())


def test_a_signed_push_verifies_and_names_its_device():
    headers = signed()
    assert headers["Content-Type"] == "application/zip"
    assert headers["Urne-Body-SHA256"] == crypto.sha256_hex(BODY)
    assert headers["Urne-Time"] == "2026-05-16T09:30:00Z"
    assert len(headers["Urne-Nonce"]) == 32
    assert check(headers) == ("stand-01", 1)


def test_header_names_are_case_insensitive():
    headers = {k.lower(): v for k, v in signed().items()}
    assert check(headers) == ("stand-01", 1)


def test_the_signature_covers_the_documented_canonical_fields():
    headers = signed()
    fields = {name: headers[h] for name, h in HEADERS.items() if name != "signature"}
    fields["epoch"] = int(fields["epoch"])
    payload = push_payload(fields)
    assert payload.startswith(b'{"body_sha256":"')
    crypto.verify(
        crypto.public_bytes(KEY), "urne/1/push", payload, bytes.fromhex(headers["Urne-Signature"])
    )


def test_replayed_request_is_refused():
    seen = NonceMemory()
    headers = signed()
    check(headers, seen=seen)
    with pytest.raises(ReplayedPushError, match="nonce already used"):
        check(headers, now=NOW + timedelta(seconds=5), seen=seen)


def test_a_fresh_nonce_makes_a_retry_acceptable():
    seen = NonceMemory()
    check(signed(seed=1), seen=seen)
    assert check(signed(seed=2), seen=seen) == ("stand-01", 1)


def test_unsigned_or_stale_requests_do_not_burn_a_nonce():
    seen = NonceMemory()
    headers = signed()
    with pytest.raises(StalePushError):
        check(headers, now=NOW + timedelta(minutes=11), seen=seen)
    assert seen.seen == {}
    assert check(headers, seen=seen) == ("stand-01", 1)


@pytest.mark.parametrize("minutes", [-11, 11, 60 * 24])
def test_stale_time_is_refused_with_the_central_time(minutes):
    headers = signed(now=NOW + timedelta(minutes=minutes))
    with pytest.raises(StalePushError) as err:
        check(headers)
    assert "2026-05-16T09:30:00Z" in str(err.value.expected)


@pytest.mark.parametrize("minutes", [-10, 0, 10])
def test_time_inside_the_window_is_accepted(minutes):
    assert check(signed(now=NOW + timedelta(minutes=minutes))) == ("stand-01", 1)


def test_tampered_body_is_refused():
    with pytest.raises(PushError, match="body does not match its hash"):
        check(signed(), body=BODY + b"x")


def test_tampered_body_with_a_recomputed_hash_fails_the_signature():
    headers = signed()
    body = BODY + b"x"
    headers["Urne-Body-SHA256"] = crypto.sha256_hex(body)
    with pytest.raises(SignatureError):
        check(headers, body=body)


def test_another_key_fails_the_signature():
    with pytest.raises(SignatureError):
        check(signed(key=OTHER))


def test_unknown_device_raises_the_lookup_error():
    with pytest.raises(EnrollmentError, match="unknown device"):
        check(signed(device="stand-02"))


@pytest.mark.parametrize(
    "header, value, where",
    [
        ("Urne-Epoch", "01", "Urne-Epoch"),
        ("Urne-Epoch", "-1", "Urne-Epoch"),
        ("Urne-Time", "2026-05-16 09:30:00", "Urne-Time"),
        ("Urne-Time", "2026-02-30T09:30:00Z", "Urne-Time"),
        ("Urne-Nonce", "ab" * 8, "Urne-Nonce"),
        ("Urne-Nonce", "AB" * 16, "Urne-Nonce"),
        ("Urne-Signature", "00" * 63, "Urne-Signature"),
        ("Urne-Body-SHA256", "zz" * 32, "Urne-Body-SHA256"),
        ("Urne-Device", "stand 01", "Urne-Device"),
    ],
)
def test_malformed_headers_say_which_and_what(header, value, where):
    headers = signed()
    headers[header] = value
    with pytest.raises(PushError) as err:
        check(headers)
    assert err.value.where == where


def test_missing_and_doubled_headers_are_refused():
    headers = signed()
    del headers["Urne-Nonce"]
    with pytest.raises(PushError, match="Urne-Nonce: missing header"):
        check(headers)
    headers = signed()
    headers["urne-nonce"] = headers["Urne-Nonce"]
    with pytest.raises(PushError, match="header given twice"):
        check(headers)


def test_sign_refuses_a_device_id_that_cannot_travel_in_a_header():
    with pytest.raises(PushError, match="device id cannot travel"):
        signed(device="Marché\n")
    with pytest.raises(ValueError, match="timezone-aware"):
        signed(now=datetime(2026, 5, 16, 9, 30))


def test_nonce_memory_forgets_only_what_the_window_already_refuses():
    seen = NonceMemory(window_seconds=600)
    assert seen("d", "n1", NOW) is False
    assert seen("d", "n1", NOW + timedelta(minutes=19)) is True
    assert seen("d", "n2", NOW + timedelta(minutes=21)) is False
    assert ("d", "n1") not in seen.seen


@settings(max_examples=60, deadline=None)
@given(
    field=st.sampled_from(["Urne-Device", "Urne-Epoch", "Urne-Nonce", "Urne-Time"]),
    data=st.data(),
)
def test_changing_any_signed_header_is_refused(field, data):
    headers = signed()
    original = headers[field]
    position = data.draw(st.integers(0, len(original) - 1))
    replacement = data.draw(st.sampled_from("0123456789abcdef-:TZ"))
    tampered = original[:position] + replacement + original[position + 1 :]
    if tampered == original:
        return
    headers[field] = tampered
    with pytest.raises((PushError, SignatureError, EnrollmentError)):
        check(headers)
