"""The authority folder on the organiser's offline laptop: keys, issued certificates, revocations."""

import re
from datetime import date
from pathlib import Path

from . import crypto, enroll
from .election import read_package
from .errors import EnrollmentError, KeyFileError

KEY_FILE, SECRET_FILE, ISSUED, REVOCATIONS = (
    "authority.key",
    "election-secret",
    "issued",
    "revocations.urne",
)
_ISSUED_NAME = re.compile(r"(?P<device>[a-z0-9][a-z0-9-]{0,31})\.(?P<epoch>[1-9][0-9]*)\.cert\Z")


def read_passphrase(path):
    """The passphrase in a file (first line), or None without a file."""
    if path is None:
        return None
    text = Path(path).read_text(encoding="utf-8").splitlines()
    if not text or not text[0]:
        raise KeyFileError("empty passphrase file", where=str(path))
    return text[0]


def init_authority(out, *, passphrase=None, rng=None):
    """Create authority.key (Ed25519, 0600) and election-secret (32 bytes, 0600) in `out`."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    out = Path(out)
    key = Ed25519PrivateKey.from_private_bytes(enroll.random_bytes(rng, 32))
    crypto.write_private_key(out / KEY_FILE, key, passphrase)
    crypto.write_secret(out / SECRET_FILE, enroll.random_bytes(rng, 32))
    (out / ISSUED).mkdir(exist_ok=True)
    return out / KEY_FILE


def _load(key_path, election_path, passphrase):
    key_path = Path(key_path)
    key = crypto.load_private_key(key_path, passphrase)
    election = read_package(
        Path(election_path).read_bytes(), authority_key=crypto.public_bytes(key)
    )
    return key, election, key_path.parent


def issued_epochs(folder, device):
    """Epochs already issued to `device` (from the authority's issued/ folder)."""
    epochs = []
    for p in (Path(folder) / ISSUED).glob(f"{device}.*.cert"):
        m = _ISSUED_NAME.match(p.name)
        if m and m["device"] == device:
            epochs.append(int(m["epoch"]))
    return sorted(epochs)


def certify_request(
    request_path, *, key_path, election_path, out, epoch=None, passphrase=None, today=None
):
    """Certify an enrollment request; epoch defaults to 1 + the highest issued. Return the cert."""
    key, election, folder = _load(key_path, election_path, passphrase)
    secret = crypto.read_secret(folder / SECRET_FILE)
    request = enroll.read_request(
        Path(request_path).read_bytes(), election, where=str(request_path)
    )
    device = request["device"]
    done = issued_epochs(folder, device)
    if epoch is None:
        epoch = (done[-1] if done else 0) + 1
    elif epoch in done:
        raise EnrollmentError(
            "epoch already issued to this device (re-imaging needs a new epoch)",
            where=f"{device} epoch",
            expected=f"an epoch other than {done}",
            got=epoch,
        )
    data = enroll.certify(
        Path(request_path).read_bytes(),
        election,
        authority_key=key,
        secret=secret,
        epoch=epoch,
        issued=today or date.today(),
    )
    out = Path(out)
    if out.exists():
        raise EnrollmentError("output file already exists; refusing to overwrite", where=str(out))
    enroll.write_atomic(folder / ISSUED / f"{device}.{epoch}.cert", data)
    enroll.write_atomic(out, data)
    return enroll.read_certificate(data, election)


def revoke(*, key_path, election_path, device, epoch, reason, out=None, passphrase=None):
    """Add a device epoch to the authority's revocation list (serial + 1); return its path."""
    key, election, folder = _load(key_path, election_path, passphrase)
    enroll.check_device_name(device)
    path = folder / REVOCATIONS
    revoked, serial = [], 0
    if path.exists():
        current = enroll.read_revocations(path.read_bytes(), election, where=str(path))
        revoked, serial = list(current.body["revoked"]), current.serial
    if any(r["device"] == device and r["epoch"] == epoch for r in revoked):
        raise EnrollmentError("already revoked", where=f"{device} epoch {epoch}")
    revoked.append({"device": device, "epoch": epoch, "reason": reason})
    data = enroll.build_revocations(election, authority_key=key, revoked=revoked, serial=serial + 1)
    enroll.write_atomic(path, data, replace=True)
    if out is not None:
        enroll.write_atomic(Path(out), data, replace=True)
    return Path(out) if out is not None else path
