"""Known-answer vectors (tests/vectors/): recomputed from fixed keys, and checked independently.

Regenerate after a deliberate format change with: python3 tests/test_vectors.py
(then review the diff: every byte here is part of the published format).
"""

import hashlib
import io
import json
import random
import sys
import tempfile
import zipfile
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parent.parent)]

from fixtures_records import NOW, mini_election  # noqa: E402

from sync import crypto, enroll, records, tags  # noqa: E402
from sync.bundle import verify_bundle, write_bundle  # noqa: E402
from sync.canonical import canonical_bytes  # noqa: E402

VECTORS = Path(__file__).parent / "vectors"
IDENTITY = {
    "last_name": "Étchébérry-Garat",
    "first_name": "Maïté",
    "birth_date": "05/03/1990",
    "postcode": "64100",
}


def _raw_private(key):
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    ).hex()


def build():
    """Every vector file's bytes, from fixed seeds."""
    election, package, authority, central, secret = mini_election(seed=1)
    home = Path(tempfile.mkdtemp(prefix="urne-vectors-"))
    rng = random.Random(2)
    request = enroll.init_device(home, election, "kiosk-01", rng=rng).read_bytes()
    certificate = enroll.certify(
        request,
        election,
        authority_key=authority,
        secret=secret,
        epoch=1,
        issued=date(2026, 5, 1),
        rng=rng,
    )
    enroll.install_certificate(home, certificate, election)
    device_key = crypto.load_private_key(home / "keys" / "device.key")
    box_key = crypto.load_private_key(home / "keys" / "box.key", kind=X25519PrivateKey)
    voter_key, receipt_key = tags.election_keys(secret)
    normalised = tags.normalise_identity(IDENTITY)
    tag = tags.voter_tag(voter_key, IDENTITY)
    ephemeral = X25519PrivateKey.from_private_bytes(bytes(range(32)))
    sealed = tags.seal_tag(election.central_key, tag, election.id, ephemeral=ephemeral)
    common = {"election_id": election.id, "device": "kiosk-01", "epoch": 1}
    bodies = []
    prev = records.genesis(election.id, "kiosk-01", 1)
    ballot_id = "00112233445566778899aabbccddeeff"
    specs = [
        ("session_open", {"time": "2026-05-16T10:02", "clock": "agent"}),
        ("ballot", {"ballot": ballot_id, "selections": {"dept": ["d1", "d3"], "canton-1": {"c1": 3, "c2": 2}},
                    "channel": "kiosk", "lang": "fr", "time": records.coarse_time(NOW), "clock": "agent", "voter": sealed}),
        ("void", {"ballot": ballot_id, "reason": "wrong choice", "time": "2026-05-16T10:00"}),
        ("session_close", {"time": "2026-05-16T18:01", "clock": "agent", "ballots": 1, "voids": 1, "total": 1}),
    ]  # fmt: skip
    chain = []
    for seq, (kind, fields) in enumerate(specs, start=1):
        body = records.new_record(kind, **common, seq=seq, prev=prev, **fields)
        body_bytes, sig = records.sign_record(device_key, body)
        chain.append((body_bytes, sig))
        bodies.append(
            {
                "body": body_bytes.decode(),
                "hash": records.record_hash(body_bytes),
                "signature": sig.hex(),
            }
        )
        prev = records.record_hash(body_bytes)
    bundle_path = write_bundle(
        home / "kiosk-01-e1-0000001-0000004.urne", certificate_bytes=certificate, records=chain, device_key=device_key,
        now=NOW, cumulative=True,
    )  # fmt: skip
    bundle = bundle_path.read_bytes()
    manifest = zipfile.ZipFile(io.BytesIO(bundle)).read("manifest.json")
    revocations = enroll.build_revocations(
        election,
        authority_key=authority,
        serial=1,
        revoked=[{"device": "kiosk-09", "epoch": 1, "reason": "lost"}],
    )
    summary = {
        "keys": {
            "authority_private": _raw_private(authority),
            "authority_public": crypto.public_bytes(authority).hex(),
            "central_private": _raw_private(central),
            "central_public": election.central_key.hex(),
            "election_secret": secret.hex(),
            "device_private": _raw_private(device_key),
            "device_public": crypto.public_bytes(device_key).hex(),
            "device_box_private": _raw_private(box_key),
            "voter_key": voter_key.hex(),
            "receipt_key": receipt_key.hex(),
        },
        "election_id": election.id,
        "genesis": records.genesis(election.id, "kiosk-01", 1),
        "voter_tag": {
            "identity": IDENTITY,
            "normalised": normalised.decode(),
            "tag": tag.hex(),
            "seal_ephemeral_private": bytes(range(32)).hex(),
            "sealed": sealed,
        },
        "receipt_code": {"ballot": ballot_id, "code": tags.receipt_code(receipt_key, ballot_id)},
        "records": bodies,
        "manifest": json.loads(manifest),
        "bundle_sha256": hashlib.sha256(bundle).hexdigest(),
        "canonical": {
            "value": {"é": [1, True, None], "a\u20ac": "x\n"},
            "bytes": canonical_bytes({"é": [1, True, None], "a\u20ac": "x\n"}).decode(),
        },
    }
    return {
        "vectors.json": json.dumps(summary, indent=2, ensure_ascii=False).encode() + b"\n",
        "package.urne": package,
        "enrollment-request.json": request,
        "device.cert": certificate,
        "records.jsonl": zipfile.ZipFile(io.BytesIO(bundle)).read("records.jsonl"),
        "manifest.json": manifest,
        "kiosk-01-e1-0000001-0000004.urne": bundle,
        "revocations.urne": revocations,
    }


def test_vectors_are_reproduced_byte_for_byte():
    for name, data in build().items():
        assert (VECTORS / name).read_bytes() == data, f"tests/vectors/{name} differs"


def _msg(domain, payload):
    return domain.encode() + b"\x00" + payload


def test_vectors_check_out_with_plain_primitives():
    """What an independent verifier does: SHA-256 and Ed25519 over tag || NUL || bytes."""
    v = json.loads((VECTORS / "vectors.json").read_bytes())
    device = Ed25519PublicKey.from_public_bytes(bytes.fromhex(v["keys"]["device_public"]))
    authority = Ed25519PublicKey.from_public_bytes(bytes.fromhex(v["keys"]["authority_public"]))
    package = json.loads(VECTORS.joinpath("package.urne").read_bytes())
    body = canonical_bytes(package["election"])
    assert hashlib.sha256(_msg("urne/1/election", body)).hexdigest() == v["election_id"]
    authority.verify(bytes.fromhex(package["signature"]), _msg("urne/1/election", body))
    cert = json.loads(VECTORS.joinpath("device.cert").read_bytes())
    authority.verify(
        bytes.fromhex(cert["signature"]),
        _msg("urne/1/device", canonical_bytes(cert["certificate"])),
    )
    lines = VECTORS.joinpath("records.jsonl").read_bytes().split(b"\n")[:-1]
    prev = v["genesis"]
    for line, rec in zip(lines, v["records"], strict=True):
        doc = json.loads(line)
        raw = rec["body"].encode()
        assert (
            canonical_bytes(doc["body"]) == raw
            and line == b'{"body":' + raw + b',"sig":"' + rec["signature"].encode() + b'"}'
        )
        assert doc["body"]["prev"] == prev
        prev = hashlib.sha256(_msg("urne/1/record", raw)).hexdigest()
        assert prev == rec["hash"]
        device.verify(bytes.fromhex(rec["signature"]), _msg("urne/1/record", raw))
    m = v["manifest"]
    device.verify(
        bytes.fromhex(m["signature"]), _msg("urne/1/manifest", canonical_bytes(m["manifest"]))
    )
    assert m["manifest"]["head"] == prev
    assert (
        m["manifest"]["members"]["records.jsonl"]
        == hashlib.sha256(VECTORS.joinpath("records.jsonl").read_bytes()).hexdigest()
    )
    bundle = VECTORS.joinpath("kiosk-01-e1-0000001-0000004.urne").read_bytes()
    assert hashlib.sha256(bundle).hexdigest() == v["bundle_sha256"]
    gen = canonical_bytes({"device": "kiosk-01", "election": v["election_id"], "epoch": 1})
    assert hashlib.sha256(_msg("urne/1/genesis", gen)).hexdigest() == v["genesis"]


def test_vector_bundle_verifies_and_tag_opens():
    election, _, _, central, _ = mini_election(seed=1)
    v = json.loads((VECTORS / "vectors.json").read_bytes())
    vb = verify_bundle(VECTORS / "kiosk-01-e1-0000001-0000004.urne", election)
    assert vb.count == 4 and vb.hash == v["bundle_sha256"]
    tag = tags.open_tag(central, v["voter_tag"]["sealed"], election.id)
    assert tag.hex() == v["voter_tag"]["tag"]


if __name__ == "__main__":
    VECTORS.mkdir(exist_ok=True)
    for name, data in build().items():
        (VECTORS / name).write_bytes(data)
        print(f"wrote tests/vectors/{name} ({len(data)} bytes)")
