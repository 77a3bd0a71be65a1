"""Narrow wrappers over Ed25519, X25519 sealing, SHA-256 and key files, all domain-separated."""

import hashlib
import hmac
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import KeyFileError, SealError, SignatureError

# Every signed or hashed message starts with one of these tags, so bytes of one kind can never
# be accepted as another kind (docs/format.md, "Domain separation").
DOMAINS = frozenset(
    {
        "urne/1/election",
        "urne/1/enroll",
        "urne/1/device",
        "urne/1/revocation",
        "urne/1/genesis",
        "urne/1/record",
        "urne/1/manifest",
        "urne/1/push",
        "urne/1/groups",
        "urne/1/adjudication",
        "urne/1/tally",
        "urne/1/voter-tag",
        "urne/1/voter-seal",
        "urne/1/secret-seal",
        "urne/1/receipt",
        "urne/1/member",
    }
)


def domain_message(domain, payload):
    """Return the exact bytes that are hashed or signed: tag, a NUL byte, then the payload."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}")
    return domain.encode("ascii") + b"\x00" + bytes(payload)


def digest(domain, payload):
    """SHA-256 of a domain-tagged payload, as lowercase hex."""
    return hashlib.sha256(domain_message(domain, payload)).hexdigest()


def sha256_hex(data):
    """Plain SHA-256 as lowercase hex (for whole files, whose content is already typed)."""
    return hashlib.sha256(data).hexdigest()


def generate_signing_key():
    """A new Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def public_bytes(key):
    """The raw 32-byte public key of an Ed25519 or X25519 private or public key."""
    if hasattr(key, "public_key"):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public_key_raw):
    """A short, readable fingerprint of a public key (16 hex digits in 4 groups)."""
    h = hashlib.sha256(bytes(public_key_raw)).hexdigest()[:16]
    return " ".join(h[i : i + 4] for i in range(0, 16, 4))


def sign(private_key, domain, payload):
    """Ed25519 signature over the domain-tagged payload (64 bytes)."""
    return private_key.sign(domain_message(domain, payload))


def verify(public_key_raw, domain, payload, signature, *, where=None):
    """Check an Ed25519 signature; raise SignatureError, never return a bool."""
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes(public_key_raw))
    except ValueError as exc:
        raise SignatureError("malformed public key", where=where) from exc
    if len(signature) != 64:
        raise SignatureError(
            "malformed signature", where=where, expected="64 bytes", got=len(signature)
        )
    try:
        key.verify(bytes(signature), domain_message(domain, payload))
    except InvalidSignature as exc:
        raise SignatureError(f"bad {domain} signature", where=where) from exc


def from_hex(value, *, size=None, where=None, error=SignatureError):
    """Decode lowercase hex of an optional exact size, raising the given error type."""
    if not isinstance(value, str) or value != value.lower():
        raise error("expected lowercase hex", where=where, got=repr(value)[:40])
    try:
        raw = bytes.fromhex(value)
    except ValueError as exc:
        raise error("expected lowercase hex", where=where, got=repr(value)[:40]) from exc
    if size is not None and len(raw) != size:
        raise error("wrong length", where=where, expected=f"{size} bytes", got=len(raw))
    return raw


def keyed_hash(key, domain, payload):
    """HMAC-SHA256 under a secret key, domain-tagged (voter tags, receipt codes)."""
    return hmac.new(bytes(key), domain_message(domain, payload), hashlib.sha256).digest()


def derive_key(secret, purpose):
    """A 32-byte sub-key of a secret for one purpose (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        bytes(secret)
    )


# Sealing: ephemeral X25519 to the recipient, HKDF-SHA256, ChaCha20-Poly1305.
# The key is fresh for every message, so a fixed nonce is safe.
_NONCE = b"\x00" * 12


def _seal_key(shared, ephemeral_pub, recipient_pub, domain):
    info = domain_message(domain, ephemeral_pub + recipient_pub)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared)


def seal(recipient_public_raw, plaintext, domain, aad=b"", *, ephemeral=None):
    """Encrypt plaintext to an X25519 public key; returns ephemeral public key + ciphertext."""
    recipient = X25519PublicKey.from_public_bytes(bytes(recipient_public_raw))
    ephemeral = ephemeral or X25519PrivateKey.generate()
    eph_pub = public_bytes(ephemeral)
    key = _seal_key(ephemeral.exchange(recipient), eph_pub, bytes(recipient_public_raw), domain)
    return eph_pub + ChaCha20Poly1305(key).encrypt(_NONCE, bytes(plaintext), bytes(aad))


def open_sealed(private_key, blob, domain, aad=b"", *, where=None):
    """Open what seal() produced, or raise SealError."""
    blob = bytes(blob)
    if len(blob) < 32 + 16:
        raise SealError(
            "sealed value too short", where=where, expected=">= 48 bytes", got=len(blob)
        )
    eph_pub, ciphertext = blob[:32], blob[32:]
    try:
        shared = private_key.exchange(X25519PublicKey.from_public_bytes(eph_pub))
        key = _seal_key(shared, eph_pub, public_bytes(private_key), domain)
        return ChaCha20Poly1305(key).decrypt(_NONCE, ciphertext, bytes(aad))
    except (InvalidTag, ValueError) as exc:
        raise SealError("cannot open sealed value", where=where) from exc


# Key files ---------------------------------------------------------------------------------


def write_private_key(path, key, passphrase=None):
    """Write a private key as PKCS#8 PEM, mode 0600, refusing to overwrite."""
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    return write_secret(path, pem)


def _read_private_file(path):
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise KeyFileError("key file not found", where=str(path)) from exc
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            "key file is readable by others",
            where=str(path),
            expected="mode 0600",
            got=oct(stat.S_IMODE(st.st_mode)),
        )
    return path.read_bytes()


def load_private_key(path, passphrase=None, *, kind=Ed25519PrivateKey):
    """Load a private key file written by write_private_key; refuse unsafe modes."""
    data = _read_private_file(path)
    try:
        key = serialization.load_pem_private_key(data, passphrase.encode() if passphrase else None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"cannot load private key ({exc})", where=str(path)) from exc
    if not isinstance(key, kind):
        raise KeyFileError(
            "wrong key type", where=str(path), expected=kind.__name__, got=type(key).__name__
        )
    return key


def write_secret(path, data):
    """Write a secret (key or raw bytes) durably, mode 0600, refusing to overwrite."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL with the mode set at creation: the secret is never readable by others.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeyFileError(
            "secret file already exists; refusing to overwrite", where=str(path)
        ) from exc
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return path


def read_secret(path):
    """Read a raw secret file; refuse it when others may read it."""
    return _read_private_file(path)
