"""Setting a kiosk folder up: init, certificate install, and the ready-to-vote demo."""

import datetime
import os
import random
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync import crypto, enroll
from sync.demo import demo_paths, write_demo
from sync.election import read_package
from sync.errors import EnrollmentError

from . import pin as agent_pin
from .errors import NotSetUp

DEMO_DEVICE = "demo-1"
DEMO_ELECTION_DIR = "demo-election"


def load_installation(home):
    """(election, certificate, revocations or None, device key, election secret) of a kiosk."""
    home = Path(home)
    role = home / "role"
    if not role.exists() or role.read_text().strip() != "kiosk":
        raise NotSetUp("this folder is not a kiosk: run `urne kiosk init`", where=str(home))
    try:
        election = read_package((home / "election.urne").read_bytes())
    except FileNotFoundError as exc:
        raise NotSetUp(
            "the election package is missing", where=str(home / "election.urne")
        ) from exc
    cert_path = home / "device.cert"
    if not cert_path.exists():
        raise NotSetUp(
            "no device certificate: run `urne kiosk install-certificate`", where=str(cert_path)
        )
    certificate = enroll.read_certificate(cert_path.read_bytes(), election, where=str(cert_path))
    revocations = None
    if (home / "revocations.urne").exists():
        revocations = enroll.read_revocations((home / "revocations.urne").read_bytes(), election)
        revocations.check(certificate.device, certificate.epoch)
    device_key = crypto.load_private_key(home / "keys" / "device.key")
    if crypto.public_bytes(device_key) != bytes(certificate.key):
        raise NotSetUp(
            "the certificate is for another key than this device's",
            where=str(cert_path),
            expected=crypto.fingerprint(crypto.public_bytes(device_key)),
            got=crypto.fingerprint(certificate.key),
        )
    box = crypto.load_private_key(home / "keys" / "box.key", kind=X25519PrivateKey)
    return election, certificate, revocations, device_key, certificate.open_secret(box)


@dataclass(frozen=True)
class Initialised:
    """What `urne kiosk init` made: the request to send to the authority and the agent PIN."""

    home: Path
    request: Path
    pin: str


def init_kiosk(home, election_file, device, *, rng=None):
    """Make `home` a kiosk of this election: role, keys, enrollment request, secret_key, PIN."""
    home = Path(home)
    if (home / "role").exists():
        raise NotSetUp(
            "this folder is already set up; use another URNE_HOME", where=str(home / "role")
        )
    data = Path(election_file).read_bytes()
    election = read_package(data)
    enroll.check_device_name(device)
    home.mkdir(parents=True, exist_ok=True)
    # The folder holds the database (voter tags, sealed or opened) and keys: owner only.
    home.chmod(0o700)
    request = enroll.init_device(home, election, device, rng=rng)
    (home / "election.urne").write_bytes(data)
    crypto.write_secret(home / "secret_key", _random(rng, 32))
    pin = agent_pin.new_pin(rng=rng if isinstance(rng, random.Random) else None)
    agent_pin.write_pin(home, pin)
    # The role goes last: until it exists, the folder is not a kiosk and nothing serves it.
    (home / "role").write_text("kiosk\n")
    return Initialised(home, request, pin)


def _random(rng, n):
    return rng.randbytes(n) if rng is not None else os.urandom(n)


def install_certificate(home, data):
    """Install a device certificate after checking it answers this folder's own request."""
    home = Path(home)
    election = read_package((home / "election.urne").read_bytes())
    request_path = home / "enrollment-request.json"
    if not request_path.exists():
        raise NotSetUp("no enrollment request here: run `urne kiosk init`", where=str(home))
    request = enroll.read_request(request_path.read_bytes(), election)
    cert = enroll.read_certificate(data, election)
    for key, want, got in (
        ("device", request["device"], cert.device),
        ("key", request["key"], cert.key.hex()),
    ):
        if want != got:
            raise EnrollmentError(
                f"the certificate answers another request ({key} differs)",
                where=f"certificate.{key}",
                expected=want,
                got=got,
            )
    return enroll.install_certificate(home, data, election)


def reset_pin(home, *, rng=None):
    """Give the kiosk in `home` a new agent PIN (returned, shown once) and lift any lockout."""
    from .store import KioskStore

    store = KioskStore.open(home)  # a kiosk folder that verifies, or raises: nothing written
    try:
        pin = agent_pin.new_pin(rng=rng if isinstance(rng, random.Random) else None)
        agent_pin.write_pin(home, pin)
        with store.db.conn:  # the old PIN's wrong tries say nothing about the new one
            store.db.conn.execute(
                "UPDATE pin_state SET failures = 0, locked_until = NULL WHERE one = 1"
            )
    finally:
        store.close()
    return pin


@dataclass(frozen=True)
class Demo:
    """A ready demo kiosk: its folder, the agent PIN (None when reused: unchanged), if new."""

    home: Path
    pin: str | None
    created: bool
    session_seq: int | None


def enroll_with_demo_authority(home, request_path, paths, *, now, rng=None):
    """Certify a kiosk's request with a demo election's own authority and install it (epoch 1)."""
    election = read_package(paths.package.read_bytes())
    certificate = enroll.certify(
        Path(request_path).read_bytes(),
        election,
        authority_key=crypto.load_private_key(paths.authority_key),
        secret=crypto.read_secret(paths.secret),
        epoch=1,
        issued=now.date(),
        rng=rng,
    )
    install_certificate(home, certificate)
    return election


def setup_demo(home, *, now, rng=None):
    """Make (or reuse) a demo kiosk in `home`, enrolled by the demo authority, session open."""
    from .store import KioskStore

    home = Path(home)
    created = not (home / "role").exists()
    if created:
        paths = demo_paths(home / DEMO_ELECTION_DIR)
        if not paths.package.exists():  # else a previous run stopped half-way: reuse its files
            paths = write_demo(paths.dir, now=now, rng=rng)
        made = init_kiosk(home, paths.package, DEMO_DEVICE, rng=rng)
        enroll_with_demo_authority(home, made.request, paths, now=now, rng=rng)
        pin = made.pin
    else:
        if not demo_paths(home / DEMO_ELECTION_DIR).authority_key.exists():
            raise NotSetUp("this folder is a kiosk but not the demo one", where=str(home))
        # The PIN stays: a kiosk of this folder may be running, its agent using it.
        pin = None
    store = KioskStore.open(home, now=now)
    try:
        seq = None if store.session().open else store.open_session(now, clock="system")
    finally:
        store.close()
    return Demo(home, pin, created, seq)


def demo_now():
    """The current time, timezone-aware (the demo trusts the system clock)."""
    return datetime.datetime.now(datetime.UTC)
