"""Crypto wrappers: domain separation, sealing, key files."""

import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync import crypto
from sync.errors import KeyFileError, SealError, SignatureError


def test_domain_message_is_tag_nul_payload():
    assert crypto.domain_message("urne/1/record", b"{}") == b"urne/1/record\x00{}"
    with pytest.raises(ValueError, match="unknown domain"):
        crypto.domain_message("urne/1/nope", b"")


def test_signature_of_one_type_never_passes_as_another():
    key = crypto.generate_signing_key()
    pub = crypto.public_bytes(key)
    sig = crypto.sign(key, "urne/1/record", b"{}")
    crypto.verify(pub, "urne/1/record", b"{}", sig)
    with pytest.raises(SignatureError, match="bad urne/1/manifest signature"):
        crypto.verify(pub, "urne/1/manifest", b"{}", sig, where="x")
    with pytest.raises(SignatureError, match="malformed signature: expected 64 bytes, got 63"):
        crypto.verify(pub, "urne/1/record", b"{}", sig[:63])


def test_digest_depends_on_domain():
    assert crypto.digest("urne/1/record", b"a") != crypto.digest("urne/1/genesis", b"a")
    assert (
        crypto.sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_seal_round_trip_and_binding():
    recipient = X25519PrivateKey.generate()
    blob = crypto.seal(crypto.public_bytes(recipient), b"secret", "urne/1/voter-seal", b"aad")
    assert len(blob) == 32 + 6 + 16
    assert crypto.open_sealed(recipient, blob, "urne/1/voter-seal", b"aad") == b"secret"
    for args in [
        (recipient, blob, "urne/1/secret-seal", b"aad"),
        (recipient, blob, "urne/1/voter-seal", b"other"),
        (X25519PrivateKey.generate(), blob, "urne/1/voter-seal", b"aad"),
        (recipient, blob[:-1] + bytes([blob[-1] ^ 1]), "urne/1/voter-seal", b"aad"),
    ]:
        with pytest.raises(SealError, match="cannot open sealed value"):
            crypto.open_sealed(*args)
    with pytest.raises(SealError, match="too short"):
        crypto.open_sealed(recipient, blob[:40], "urne/1/voter-seal", b"aad")


def test_seal_is_fresh_each_time():
    pub = crypto.public_bytes(X25519PrivateKey.generate())
    assert crypto.seal(pub, b"x", "urne/1/voter-seal") != crypto.seal(
        pub, b"x", "urne/1/voter-seal"
    )


def test_private_key_file_mode_passphrase_and_no_overwrite(tmp_path):
    key = crypto.generate_signing_key()
    path = crypto.write_private_key(tmp_path / "k" / "a.key", key, passphrase="correct horse")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = crypto.load_private_key(path, "correct horse")
    assert crypto.public_bytes(loaded) == crypto.public_bytes(key)
    with pytest.raises(KeyFileError, match="cannot load private key"):
        crypto.load_private_key(path, "wrong")
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        crypto.write_private_key(path, key)
    os.chmod(path, 0o640)
    with pytest.raises(KeyFileError, match="readable by others: expected mode 0600, got 0o640"):
        crypto.load_private_key(path, "correct horse")


def test_load_refuses_wrong_key_type(tmp_path):
    path = crypto.write_private_key(tmp_path / "box.key", X25519PrivateKey.generate())
    with pytest.raises(KeyFileError, match="wrong key type"):
        crypto.load_private_key(path)


def test_secret_file(tmp_path):
    path = crypto.write_secret(tmp_path / "s", b"\x01" * 32)
    assert crypto.read_secret(path) == b"\x01" * 32
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError):
        crypto.read_secret(path)


def test_from_hex_and_derived_keys():
    assert crypto.from_hex("00ff", size=2) == b"\x00\xff"
    with pytest.raises(SignatureError, match="expected lowercase hex"):
        crypto.from_hex("00FF")
    with pytest.raises(SignatureError, match="wrong length: expected 3 bytes, got 2"):
        crypto.from_hex("00ff", size=3)
    secret = b"\x07" * 32
    assert crypto.derive_key(secret, "urne/1/voter-key") != crypto.derive_key(
        secret, "urne/1/receipt-key"
    )
    assert crypto.fingerprint(b"\x00" * 32).count(" ") == 3
