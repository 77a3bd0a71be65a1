"""Enrollment: device keys, signed requests, certificates, installation, revocations."""

import json
import random
import stat
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fixtures_records import make_enrolled, mini_election

from sync import crypto, enroll
from sync.canonical import canonical_bytes
from sync.errors import CanonicalError, EnrollmentError, KeyFileError, RevokedError, SignatureError


@pytest.fixture(scope="module")
def mini():
    return mini_election()


def _certify(mini, request, epoch=1):
    election, _, authority, _, secret = mini
    return enroll.certify(
        request,
        election,
        authority_key=authority,
        secret=secret,
        epoch=epoch,
        issued=date(2026, 5, 1),
    )


def test_init_device_writes_keys_and_a_signed_request(mini, tmp_path):
    election = mini[0]
    path = enroll.init_device(tmp_path, election, "kiosk-07", rng=random.Random(1))
    for name in ("keys/device.key", "keys/box.key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    body = enroll.read_request(path.read_bytes(), election)
    assert body["device"] == "kiosk-07" and body["election"] == election.id
    with pytest.raises(EnrollmentError, match="already initialised"):
        enroll.init_device(tmp_path, election, "kiosk-07")


@pytest.mark.parametrize("name", ["Kiosk", "-k", "k" * 33, "k_1", ""])
def test_bad_device_names(mini, tmp_path, name):
    with pytest.raises(EnrollmentError, match="bad device id"):
        enroll.init_device(tmp_path, mini[0], name)


def test_request_without_proof_of_possession_refused(mini, tmp_path):
    path = enroll.init_device(tmp_path, mini[0], "kiosk-07")
    doc = json.loads(path.read_bytes())
    doc["request"]["key"] = crypto.public_bytes(Ed25519PrivateKey.generate()).hex()
    with pytest.raises(SignatureError, match="bad urne/1/enroll signature"):
        _certify(mini, canonical_bytes(doc))
    with pytest.raises(CanonicalError):
        _certify(mini, path.read_bytes() + b"\n")


def test_certificate_round_trip_and_secret(mini, tmp_path):
    election, _, authority, _, secret = mini
    path = enroll.init_device(tmp_path, election, "kiosk-07")
    data = _certify(mini, path.read_bytes(), epoch=3)
    cert = enroll.install_certificate(tmp_path, data, election)
    assert (cert.device, cert.epoch, cert.issued) == ("kiosk-07", 3, "2026-05-01")
    key, loaded, opened = enroll.load_device(tmp_path, election)
    assert opened == secret and loaded == cert
    assert crypto.public_bytes(key) == cert.key
    assert len(cert.fingerprint) == 19


def test_certificate_refusals(mini, tmp_path):
    election, _, authority, _, secret = mini
    data = _certify(mini, enroll.init_device(tmp_path, election, "kiosk-07").read_bytes())
    doc = json.loads(data)
    doc["certificate"]["epoch"] = 2
    with pytest.raises(
        SignatureError, match=r"certificate\.signature: bad urne/1/device signature"
    ):
        enroll.read_certificate(canonical_bytes(doc), election)
    other = mini_election(seed=5)[0]
    with pytest.raises(SignatureError, match="bad urne/1/device signature"):
        enroll.read_certificate(data, other)
    with pytest.raises(EnrollmentError, match="authority key does not match"):
        enroll.certify(
            data,
            election,
            authority_key=Ed25519PrivateKey.generate(),
            secret=secret,
            epoch=1,
            issued="2026-05-01",
        )
    with pytest.raises(EnrollmentError, match="bad epoch"):
        _certify(mini, (tmp_path / "enrollment-request.json").read_bytes(), epoch=0)


def test_install_refuses_a_certificate_for_another_key(mini, tmp_path):
    election = mini[0]
    data = _certify(mini, enroll.init_device(tmp_path / "a", election, "kiosk-07").read_bytes())
    enroll.init_device(tmp_path / "b", election, "kiosk-07")
    with pytest.raises(EnrollmentError, match="certificate is for another device key"):
        enroll.install_certificate(tmp_path / "b", data, election)
    assert not (tmp_path / "b" / "device.cert").exists()


def test_load_device_before_enrollment(mini, tmp_path):
    with pytest.raises(EnrollmentError, match="not enrolled yet"):
        enroll.load_device(tmp_path, mini[0])


def test_load_device_refuses_unsafe_key_mode(tmp_path):
    ctx = make_enrolled(tmp_path / "k")
    (ctx.home / "keys" / "device.key").chmod(0o644)
    with pytest.raises(KeyFileError, match="readable by others"):
        enroll.load_device(ctx.home, ctx.election)


def test_revocations(mini):
    election, _, authority, _, _ = mini
    data = enroll.build_revocations(
        election, authority_key=authority, serial=2,
        revoked=[{"device": "kiosk-09", "epoch": 1, "reason": "lost"}, {"device": "kiosk-02", "epoch": 3, "reason": "re-imaged"}],
    )  # fmt: skip
    revs = enroll.read_revocations(data, election)
    assert revs.serial == 2
    revs.check("kiosk-09", 2)
    with pytest.raises(RevokedError, match=r"kiosk-02 epoch 3 is revoked \(re-imaged\)"):
        revs.check("kiosk-02", 3)
    forged = enroll.build_revocations(
        election, authority_key=Ed25519PrivateKey.generate(), serial=3, revoked=[]
    )
    with pytest.raises(SignatureError, match="bad urne/1/revocation signature"):
        enroll.read_revocations(forged, election)
    with pytest.raises(EnrollmentError, match="bad serial"):
        enroll.build_revocations(election, authority_key=authority, serial=0, revoked=[])
    # A certificate signature does not pass as a revocation list (domain separation).
    body = {"type": "revocations", "election": election.id, "serial": 1, "revoked": []}
    sig = crypto.sign(authority, "urne/1/device", canonical_bytes(body))
    with pytest.raises(SignatureError):
        enroll.read_revocations(
            canonical_bytes({"revocations": body, "signature": sig.hex()}), election
        )
