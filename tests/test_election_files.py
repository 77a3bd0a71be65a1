"""Files behind `urne election`: central public key formats, building from files, summaries."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync import crypto
from sync.election import read_package
from sync.election_files import (
    build_package_file,
    key_needs_passphrase,
    read_central_public,
    summary,
)
from sync.errors import ElectionError, KeyFileError, SignatureError


@pytest.fixture
def central():
    return X25519PrivateKey.generate()


def test_central_public_key_as_hex_pem_or_private_pem(tmp_path, central):
    raw = crypto.public_bytes(central)
    hex_file = tmp_path / "central.pub"
    hex_file.write_text(raw.hex().upper() + "\n")
    pem_file = tmp_path / "central.pem"
    pem_file.write_bytes(
        central.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    private_file = crypto.write_private_key(tmp_path / "central.key", central)
    assert read_central_public(hex_file) == read_central_public(pem_file) == raw
    assert read_central_public(private_file) == raw


def test_central_public_key_refusals(tmp_path):
    junk = tmp_path / "junk"
    junk.write_text("not a key")
    with pytest.raises(KeyFileError, match="not a central public key"):
        read_central_public(junk)
    ed = tmp_path / "ed.pem"
    ed.write_bytes(
        crypto.generate_signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(KeyFileError, match="wrong key type"):
        read_central_public(ed)
    with pytest.raises(KeyFileError, match="cannot read"):
        read_central_public(tmp_path / "missing")


def test_key_needs_passphrase(tmp_path):
    plain = crypto.write_private_key(tmp_path / "a.key", crypto.generate_signing_key())
    locked = crypto.write_private_key(tmp_path / "b.key", crypto.generate_signing_key(), "pw")
    assert not key_needs_passphrase(plain)
    assert key_needs_passphrase(locked)
    assert not key_needs_passphrase(tmp_path / "missing")


def test_build_package_file_signs_with_the_key_and_defaults(demo, tmp_path):
    out = tmp_path / "out" / "election.urne"
    e = build_package_file(demo.paths.source, key=demo.paths.authority_key, out=out)
    assert read_package(out.read_bytes(), authority_key=demo.authority_key).id == e.id
    assert e.central_key == demo.election.central_key
    assert [p.name for p in out.parent.iterdir()] == ["election.urne"]  # no temporary left


def test_build_package_file_changes_nothing_on_error(demo, tmp_path):
    out = tmp_path / "election.urne"
    out.write_bytes(b"old")
    with pytest.raises(ElectionError, match="refusing to overwrite"):
        build_package_file(demo.paths.source, key=demo.paths.authority_key, out=out)
    bad = tmp_path / "bad.toml"
    bad.write_text(demo.paths.source.read_text().replace('slug = "bp64-demo"', 'slug = "BP"'))
    with pytest.raises(ElectionError, match="slug"):
        build_package_file(bad, key=demo.paths.authority_key, out=out, force=True)
    assert out.read_bytes() == b"old"


def test_summary_describes_a_verified_package(demo, tmp_path):
    info = summary(demo.paths.package, "es")
    assert info["id"] == demo.election.id
    assert info["title"] == "Presupuesto participativo de Pirineos Atlánticos"
    assert info["authority_fingerprint"] == demo.election.fingerprint
    assert sum(len(s["projects"]) for s in info["sections"]) == 16
    forged = tmp_path / "forged.urne"
    forged.write_bytes(demo.package.replace(b"Orthez", b"Orthes"))
    with pytest.raises(SignatureError):
        summary(forged)
    with pytest.raises(ElectionError, match="cannot read"):
        summary(tmp_path / "missing.urne")
