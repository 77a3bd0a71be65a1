"""Signed election packages: build, read back, tamper, pin, and the Election / Section views."""

import datetime
import json
import random

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from fixtures_election import base_source, section

from sync import crypto
from sync.canonical import canonical_bytes, parse_canonical
from sync.election import build_package, election_id, open_secret, read_package
from sync.errors import CanonicalError, ElectionError, SealError, SelectionError, SignatureError

PARIS = datetime.timezone(datetime.timedelta(hours=1))


def _keys(seed=1):
    rng = random.Random(seed)
    return (
        Ed25519PrivateKey.from_private_bytes(rng.randbytes(32)),
        X25519PrivateKey.from_private_bytes(rng.randbytes(32)),
        rng.randbytes(32),
    )


def _build(source=None, seed=1, **kw):
    authority, central, secret = _keys(seed)
    return build_package(
        source or base_source(datetime.date(2026, 11, 26)),
        authority_key=authority,
        central_public=crypto.public_bytes(central),
        secret=secret,
        **kw,
    )


def _resign(doc, key):
    """Re-sign a modified body with a key, as a forger holding that key would."""
    body = doc["election"]
    doc["signature"] = crypto.sign(key, "urne/1/election", canonical_bytes(body)).hex()
    return canonical_bytes(doc)


def test_package_reads_back_with_its_id_and_keys():
    authority, central, secret = _keys()
    data = _build()
    e = read_package(data)
    doc = parse_canonical(data)
    assert e.id == crypto.digest("urne/1/election", canonical_bytes(doc["election"]))
    assert e.id == election_id(e.body)
    assert e.bytes == data
    assert e.authority_key == crypto.public_bytes(authority)
    assert e.central_key == crypto.public_bytes(central)
    assert e.body["format"] == "urne/1"
    assert e.languages == ("fr", "en")
    assert open_secret(e, central) == secret


def test_build_is_reproducible_with_an_rng_and_random_without():
    assert _build(rng=random.Random(5)) == _build(rng=random.Random(5))
    a, b = _build(), _build()
    assert a != b  # a fresh ephemeral key seals the secret each time
    assert read_package(a).id != read_package(b).id


def test_any_change_of_a_signed_package_is_refused():
    data = _build()
    doc = parse_canonical(data)
    doc["election"]["sections"][0]["projects"][0]["cost"] += 1
    with pytest.raises(SignatureError, match="bad urne/1/election signature") as info:
        read_package(canonical_bytes(doc))
    assert info.value.where == "package.signature"


@pytest.mark.parametrize("position", [10, 500, -3])
def test_a_flipped_byte_is_refused(position):
    data = bytearray(_build())
    data[position] ^= 0x01
    with pytest.raises((CanonicalError, ElectionError, SignatureError)):
        read_package(bytes(data))


def test_a_signature_of_another_kind_is_refused():
    authority, _, _ = _keys()
    doc = parse_canonical(_build())
    body = canonical_bytes(doc["election"])
    doc["signature"] = crypto.sign(authority, "urne/1/device", body).hex()
    with pytest.raises(SignatureError):
        read_package(canonical_bytes(doc))


def test_a_pinned_authority_key_must_match():
    data = _build(seed=1)
    other, _, _ = _keys(seed=2)
    own, _, _ = _keys(seed=1)
    assert read_package(data, authority_key=crypto.public_bytes(own)).id
    assert read_package(data, authority_key=own).id  # a key object is accepted too
    with pytest.raises(SignatureError, match="another authority") as info:
        read_package(data, authority_key=crypto.public_bytes(other))
    assert info.value.expected == crypto.fingerprint(crypto.public_bytes(other))
    assert info.value.got == crypto.fingerprint(crypto.public_bytes(own))


def test_a_package_re_signed_by_another_key_fails_the_pin():
    forger, _, _ = _keys(seed=3)
    own, _, _ = _keys(seed=1)
    doc = parse_canonical(_build())
    doc["election"]["authority_key"] = crypto.public_bytes(forger).hex()
    forged = _resign(doc, forger)
    read_package(forged)  # self-consistent, so only the pin tells it apart
    with pytest.raises(SignatureError, match="another authority"):
        read_package(forged, authority_key=crypto.public_bytes(own))


def test_a_signed_but_invalid_body_is_refused():
    authority, _, _ = _keys()
    doc = parse_canonical(_build())
    doc["election"]["sections"][0]["budget"] = 1
    with pytest.raises(ElectionError) as info:
        read_package(_resign(doc, authority))
    assert info.value.where == "sections[0].projects[0].cost"


def test_a_signed_body_missing_defaults_is_refused():
    authority, _, _ = _keys()
    doc = parse_canonical(_build())
    del doc["election"]["sections"][0]["tally"]["reserved"]
    with pytest.raises(ElectionError, match="not normalised"):
        read_package(_resign(doc, authority))


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["election"].update(format="urne/2"), "package.election.format"),
        (lambda d: d["election"].update(central_key="00"), "package.election.central_key"),
        (lambda d: d["election"].update(secret_sealed="00" * 81), "package.election.secret_sealed"),
        (lambda d: d["election"].update(authority_key="AB" * 32), "package.election.authority_key"),
        (lambda d: d.update(extra=1), "package"),
        (lambda d: d.update(election=[1]), "package.election"),
    ],
)
def test_malformed_packages_are_refused_with_the_field(change, where):
    authority, _, _ = _keys()
    doc = parse_canonical(_build())
    change(doc)
    data = _resign(doc, authority) if isinstance(doc["election"], dict) else canonical_bytes(doc)
    with pytest.raises(ElectionError) as info:
        read_package(data)
    assert info.value.where == where


def test_non_canonical_bytes_are_refused():
    data = _build()
    pretty = json.dumps(json.loads(data), indent=1).encode()
    with pytest.raises(CanonicalError):
        read_package(pretty)


def test_open_secret_needs_the_central_key():
    e = read_package(_build())
    with pytest.raises(SealError):
        open_secret(e, X25519PrivateKey.generate())


def test_the_secret_is_bound_to_the_election_slug():
    _, central, _ = _keys()
    a = read_package(_build())
    other = base_source(datetime.date(2026, 11, 26))
    other["slug"] = "autre"
    b = read_package(_build(other))
    # Graft b's sealed secret onto a: the slug is the seal's associated data, so it fails.
    a.body["secret_sealed"] = b.body["secret_sealed"]
    with pytest.raises(SealError):
        open_secret(a, central)


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [({"secret": b"short"}, "secret"), ({"central_public": b"x" * 31}, "central_key")],
)
def test_build_refuses_bad_keys(kwargs, where):
    authority, central, secret = _keys()
    args = {
        "authority_key": authority,
        "central_public": crypto.public_bytes(central),
        "secret": secret,
    }
    args.update(kwargs)
    with pytest.raises(ElectionError) as info:
        build_package(base_source(), **args)
    assert info.value.where == where


def test_election_views(make_election):
    kit = make_election(sections=[section("a", n=3), section("b", n=2)])
    e = kit.election
    assert [s.id for s in e.sections] == ["a", "b"]
    b = e.section("b")
    assert b.project("b-p2")["cost"] == 200
    assert b.find("zz") is None
    with pytest.raises(SelectionError, match="unknown project"):
        b.project("zz")
    with pytest.raises(SelectionError, match="unknown section"):
        e.section("c")
    assert e.text({"fr": "Bonjour", "en": "Hello"}, "en") == "Hello"
    assert e.text({"fr": "Bonjour"}, "eu") == "Bonjour"
    assert e.text(None, "fr") == ""
    assert e.eligibility["min_age"] == 16
    assert e.duplicate_policy == "hold"
    assert e.window["timezone"] == "Europe/Paris"
    assert e.fingerprint == crypto.fingerprint(crypto.public_bytes(kit.authority_key))


def test_validate_selections_needs_every_section_and_nothing_else(make_election):
    e = make_election(sections=[section("a", n=3), section("b", n=2)]).election
    assert e.validate_selections({"a": ["a-p1"], "b": []})
    cases = [
        ({"a": ["a-p1"]}, "selections.b", "section missing"),
        ({"a": [], "b": [], "c": []}, "selections.c", "unknown section"),
        ({"a": ["b-p1"], "b": []}, "selections.a[0]", "unknown project"),
        ({"a": ["a-p1", "a-p2", "a-p3"], "b": []}, "selections.a", "wrong number"),
        (["a-p1"], "selections", "object of sections"),
    ]
    for selections, where, word in cases:
        with pytest.raises(SelectionError, match=word) as info:
            e.validate_selections(selections)
        assert info.value.where == where


def test_check_open_uses_the_election_time_zone(make_election):
    e = make_election(window={"opens": "2026-11-01", "closes": "2026-11-30"}).election
    assert e.check_open(datetime.datetime(2026, 11, 30, 22, 59, tzinfo=datetime.UTC))
    # 23:00 UTC on the 30th is already 1 December in Paris.
    with pytest.raises(ElectionError, match="voting is closed") as info:
        e.check_open(datetime.datetime(2026, 11, 30, 23, 0, tzinfo=datetime.UTC))
    assert info.value.got == "2026-12-01"
    with pytest.raises(ElectionError, match="closed"):
        e.check_open(datetime.datetime(2026, 10, 31, 12, tzinfo=PARIS))
    with pytest.raises(ElectionError, match="naive"):
        e.check_open(datetime.datetime(2026, 11, 15, 12))
