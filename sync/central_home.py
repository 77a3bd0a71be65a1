"""A central installation folder: set it up (`urne central init`) and open it."""

import hashlib
import hmac
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from . import crypto
from .central import CentralStore
from .election import read_package
from .enroll import read_revocations
from .errors import ConflictError, ElectionError, KeyFileError, UrneError
from .groups import CENTRAL_KEY, SIGNING_KEY

PASSWORD_FILE = "organiser.password"  # noqa: S105 - a file name
MIN_PASSWORD = 10
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class NotCentral(UrneError):
    """The folder is not a central installation (or is already one, for init)."""


def hash_password(password, *, salt=None):
    """The stored form of the organiser password: `scrypt$n$r$p$salt$hash` (hex)."""
    salt = salt if salt is not None else os.urandom(16)
    derived = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    p = _SCRYPT
    return f"scrypt${p['n']}${p['r']}${p['p']}${salt.hex()}${derived.hex()}"


def password_matches(home, password):
    """Whether `password` is the organiser's (constant-time); raise KeyFileError if unreadable."""
    stored = crypto.read_secret(Path(home) / PASSWORD_FILE).decode().strip()
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            raise ValueError(scheme)
        derived = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), dklen=32, n=int(n), r=int(r), p=int(p)
        )
    except ValueError as exc:
        raise KeyFileError("malformed password file", expected="scrypt$n$r$p$salt$hash") from exc
    return hmac.compare_digest(derived.hex(), expected)


def init_central(home, election_path, central_key_path, password, *, rng=None):
    """Make `home` a central of this election: keys (0600), secret_key, password hash, database."""
    home = Path(home)
    if (home / "role").exists():
        raise NotCentral("this folder is already set up; use another URNE_HOME", where=str(home))
    if len(password) < MIN_PASSWORD:
        raise KeyFileError(
            "organiser password too short",
            expected=f">= {MIN_PASSWORD} characters",
            got=len(password),
        )
    data = Path(election_path).read_bytes()
    election = read_package(data)
    central = crypto.load_private_key(central_key_path, kind=X25519PrivateKey)
    if crypto.public_bytes(central) != election.central_key:
        raise ElectionError(
            "this central key is not the election's",
            where=str(central_key_path),
            expected=crypto.fingerprint(election.central_key),
            got=crypto.fingerprint(crypto.public_bytes(central)),
        )
    home.mkdir(parents=True, exist_ok=True)
    # The folder holds the database (voter tags, sealed or opened) and keys: owner only.
    home.chmod(0o700)
    crypto.write_private_key(home / CENTRAL_KEY, central)
    signing = crypto.generate_signing_key() if rng is None else _seeded(rng)
    crypto.write_private_key(home / SIGNING_KEY, signing)
    crypto.write_secret(home / "secret_key", rng.randbytes(32) if rng else os.urandom(32))
    crypto.write_secret(home / PASSWORD_FILE, (hash_password(password) + "\n").encode())
    (home / "election.urne").write_bytes(data)
    CentralStore(home).close()
    (home / "published").mkdir(exist_ok=True)
    # The role goes last: until it exists, nothing serves this folder.
    (home / "role").write_text("central\n")
    return home


def _seeded(rng):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))


@dataclass
class Central:
    """An opened central folder: its store, election and revocation list."""

    home: Path
    store: CentralStore
    election: object
    revocations: object

    @property
    def revoked(self):
        """(device, epoch) pairs on the installed revocation list: their records do not count."""
        return frozenset(self.revocations.revoked) if self.revocations else frozenset()

    def records(self, *, ordered=True):
        """The accepted records of devices not revoked (see CentralStore.records)."""
        return self.store.records(self.revoked, ordered=ordered)

    def close(self):
        """Close the database."""
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_central(home):
    """Open a central folder; raise NotCentral when it is not one."""
    home = Path(home)
    role = home / "role"
    if not role.exists() or role.read_text().strip() != "central":
        raise NotCentral(
            "this folder is not a central: run `urne central init` (or set URNE_HOME)",
            where=str(home),
        )
    election = read_package((home / "election.urne").read_bytes())
    revocations = None
    if (home / "revocations.urne").exists():
        revocations = read_revocations((home / "revocations.urne").read_bytes(), election)
    store = CentralStore(home)
    sync_revoked(store, revocations)
    return Central(home, store, election, revocations)


def sync_revoked(store, revocations):
    """Keep the store's copy of the revoked (device, epoch) list equal to the installed file."""
    want = json.dumps(sorted(revocations.revoked) if revocations else [])
    if store.meta("revoked", "[]") != want:
        store.set_meta("revoked", want)


def install_revocations(home, data):
    """Install a newer revocation list (verified against the election)."""
    home = Path(home)
    election = read_package((home / "election.urne").read_bytes())
    new = read_revocations(data, election)
    current = home / "revocations.urne"
    if current.exists():
        old = read_revocations(current.read_bytes(), election)
        if new.serial <= old.serial and current.read_bytes() != data:
            raise ConflictError(
                "an older revocation list",
                where="serial",
                expected=f"> {old.serial}",
                got=new.serial,
            )
    tmp = home / ".revocations.urne.tmp"
    tmp.write_bytes(data)
    shutil.move(tmp, home / "revocations.urne")
    with CentralStore(home) as store:
        sync_revoked(store, new)
