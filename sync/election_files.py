"""File-level helpers behind `urne election`: build a package from files, summarise a package."""

import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from . import crypto
from .election import build_package, load_source, read_package
from .errors import ElectionError, KeyFileError

CENTRAL_PUBLIC_NAME = "central.pub"
SECRET_NAME = "election-secret"  # noqa: S105 (a file name, not a secret)


def key_needs_passphrase(path):
    """Whether a PEM private key file is passphrase-encrypted."""
    try:
        return b"ENCRYPTED" in Path(path).read_bytes()[:64]
    except OSError:
        return False


def read_central_public(path):
    """The raw X25519 public key from a file: 64 hex digits, a PEM public key or a PEM private key."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read central key ({exc.strerror})", where=str(path)) from exc
    text = data.strip()
    if len(text) == 64 and all(c in b"0123456789abcdef" for c in text.lower()):
        return bytes.fromhex(text.decode())
    if b"PRIVATE KEY" in text:
        return crypto.public_bytes(crypto.load_private_key(path, kind=X25519PrivateKey))
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise KeyFileError(
            "not a central public key",
            where=str(path),
            expected="64 hex digits or PEM",
            got=f"{len(data)} bytes",
        ) from exc
    if not isinstance(key, X25519PublicKey):
        raise KeyFileError(
            "wrong key type", where=str(path), expected="X25519", got=type(key).__name__
        )
    return crypto.public_bytes(key)


def _write_atomic(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build_package_file(
    source, *, key, out, central=None, secret=None, passphrase=None, force=False
):
    """Validate source, sign it with the key file and write the package; return the Election."""
    key = Path(key)
    central = Path(central) if central else key.parent / CENTRAL_PUBLIC_NAME
    secret = Path(secret) if secret else key.parent / SECRET_NAME
    out = Path(out)
    if out.exists() and not force:
        raise ElectionError("package file already exists; refusing to overwrite", where=str(out))
    body = load_source(source)
    authority_key = crypto.load_private_key(key, passphrase)
    package = build_package(
        body,
        authority_key=authority_key,
        central_public=read_central_public(central),
        secret=crypto.read_secret(secret),
    )
    election = read_package(package, authority_key=crypto.public_bytes(authority_key))
    _write_atomic(out, package)
    return election


def summary(path, lang="fr"):
    """A plain dict describing a verified package file, for `urne election show`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ElectionError(f"cannot read package ({exc.strerror})", where=str(path)) from exc
    e = read_package(data)
    return {
        "id": e.id,
        "slug": e.slug,
        "title": e.text(e.title, lang),
        "languages": list(e.languages),
        "window": e.window,
        "duplicate_policy": e.duplicate_policy,
        "authority_fingerprint": crypto.fingerprint(e.authority_key),
        "central_fingerprint": crypto.fingerprint(e.central_key),
        "eligibility": e.eligibility,
        "sections": [
            {
                "id": s.id,
                "title": e.text(s.title, lang),
                "budget": s.budget,
                "ballot": s.ballot,
                "tally": s.tally,
                "projects": [
                    {
                        "id": p["id"],
                        "title": e.text(p["title"], lang),
                        "cost": p["cost"],
                        "canton": p["canton"],
                        "category": p["category"],
                    }
                    for p in s.projects
                ],
            }
            for s in e.sections
        ],
    }
