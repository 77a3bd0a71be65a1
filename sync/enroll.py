"""Device enrollment: keys, signed requests, authority certificates and revocation lists."""

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from . import crypto
from .canonical import canonical_bytes, parse_canonical
from .errors import EnrollmentError, RevokedError
from .records import DEVICE_NAME

MAX_DOC_BYTES = 64 * 1024
MAX_REVOKED = 10_000
SECRET_BYTES = 32


def random_bytes(rng, n):
    """n random bytes from `rng` (None: the OS; an object with randbytes; or a callable)."""
    if rng is None:
        return os.urandom(n)
    if hasattr(rng, "randbytes"):
        return rng.randbytes(n)
    return rng(n)


def check_device_name(device, where="device"):
    """Raise EnrollmentError unless the device id matches [a-z0-9][a-z0-9-]{0,31}."""
    if not isinstance(device, str) or not DEVICE_NAME.match(device):
        raise EnrollmentError(
            "bad device id", where=where, expected="[a-z0-9][a-z0-9-]{0,31}", got=repr(device)
        )
    return device


def _signed(domain, key, label, body):
    signature = crypto.sign(key, domain, canonical_bytes(body))
    return canonical_bytes({label: body, "signature": signature.hex()})


def _open_signed(data, label, where):
    """Parse {label: body, "signature": hex} and return (body, signature bytes)."""
    doc = parse_canonical(bytes(data), where=where, max_bytes=MAX_DOC_BYTES)
    if not isinstance(doc, dict) or set(doc) != {label, "signature"}:
        got = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise EnrollmentError(f"not a {label}", where=where, expected=[label, "signature"], got=got)
    if not isinstance(doc[label], dict):
        raise EnrollmentError(f"{label} is not an object", where=f"{where}.{label}")
    sig = crypto.from_hex(doc["signature"], size=64, where=f"{where}.signature")
    return doc[label], sig


def _fields(body, names, where):
    if set(body) != set(names):
        raise EnrollmentError("wrong fields", where=where, expected=sorted(names), got=sorted(body))


def _expect(body, key, want, where):
    if body[key] != want:
        raise EnrollmentError(f"wrong {key}", where=f"{where}.{key}", expected=want, got=body[key])


def _epoch(value, where):
    if type(value) is not int or value < 1:
        raise EnrollmentError("bad epoch", where=where, expected="integer >= 1", got=repr(value))
    return value


# Device side ------------------------------------------------------------------------------


def init_device(home, election, device, *, rng=None):
    """Create the device's keys and its signed enrollment request; return the request path."""
    check_device_name(device)
    home = Path(home)
    request_path = home / "enrollment-request.json"
    if request_path.exists():
        raise EnrollmentError("device already initialised", where=str(request_path))
    signing = Ed25519PrivateKey.from_private_bytes(random_bytes(rng, 32))
    box = X25519PrivateKey.from_private_bytes(random_bytes(rng, 32))
    crypto.write_private_key(home / "keys" / "device.key", signing)
    crypto.write_private_key(home / "keys" / "box.key", box)
    body = {
        "type": "enroll",
        "election": election.id,
        "device": device,
        "key": crypto.public_bytes(signing).hex(),
        "box_key": crypto.public_bytes(box).hex(),
    }
    write_atomic(request_path, _signed("urne/1/enroll", signing, "request", body))
    return request_path


def read_request(data, election, *, where="enrollment-request"):
    """Verify a request (proof of possession of the device key); return its body."""
    body, sig = _open_signed(data, "request", where)
    _fields(body, ("type", "election", "device", "key", "box_key"), f"{where}.request")
    _expect(body, "type", "enroll", f"{where}.request")
    _expect(body, "election", election.id, f"{where}.request")
    check_device_name(body["device"], f"{where}.request.device")
    key = crypto.from_hex(body["key"], size=32, where=f"{where}.request.key", error=EnrollmentError)
    crypto.from_hex(
        body["box_key"], size=32, where=f"{where}.request.box_key", error=EnrollmentError
    )
    crypto.verify(key, "urne/1/enroll", canonical_bytes(body), sig, where=f"{where}.signature")
    return body


def _secret_aad(election_id, device, epoch):
    return canonical_bytes({"election": election_id, "device": device, "epoch": epoch})


def certify(request_bytes, election, *, authority_key, secret, epoch, issued, rng=None):
    """Turn a verified enrollment request into certificate bytes signed by the authority."""
    if crypto.public_bytes(authority_key) != election.authority_key:
        raise EnrollmentError(
            "authority key does not match the election",
            where="authority_key",
            expected=crypto.fingerprint(election.authority_key),
            got=crypto.fingerprint(crypto.public_bytes(authority_key)),
        )
    if len(secret) != SECRET_BYTES:
        raise EnrollmentError(
            "bad election secret", expected=f"{SECRET_BYTES} bytes", got=len(secret)
        )
    request = read_request(request_bytes, election)
    _epoch(epoch, "epoch")
    ephemeral = X25519PrivateKey.from_private_bytes(random_bytes(rng, 32)) if rng else None
    aad = _secret_aad(election.id, request["device"], epoch)
    sealed = crypto.seal(
        bytes.fromhex(request["box_key"]), secret, "urne/1/secret-seal", aad, ephemeral=ephemeral
    )
    body = {
        "type": "device",
        "election": election.id,
        "device": request["device"],
        "epoch": epoch,
        "key": request["key"],
        "issued": issued.isoformat() if isinstance(issued, date) else issued,
        "secret_sealed": sealed.hex(),
    }
    date.fromisoformat(body["issued"])
    return _signed("urne/1/device", authority_key, "certificate", body)


@dataclass(frozen=True)
class Certificate:
    """A verified device certificate."""

    device: str
    epoch: int
    key: bytes = field(repr=False)
    issued: str
    election_id: str
    body: dict = field(repr=False)
    bytes: bytes = field(repr=False)

    @property
    def fingerprint(self):
        """Short fingerprint of the device's public key."""
        return crypto.fingerprint(self.key)

    def open_secret(self, box_private_key):
        """Open the election secret sealed to this device's box key."""
        aad = _secret_aad(self.election_id, self.device, self.epoch)
        blob = crypto.from_hex(self.body["secret_sealed"], where="certificate.secret_sealed")
        return crypto.open_sealed(
            box_private_key, blob, "urne/1/secret-seal", aad, where="certificate.secret_sealed"
        )


CERT_FIELDS = ("type", "election", "device", "epoch", "key", "issued", "secret_sealed")


def read_certificate(data, election, *, where="certificate"):
    """Verify a certificate against the election's authority key; return a Certificate."""
    body, sig = _open_signed(data, "certificate", where)
    inner = f"{where}.certificate"
    _fields(body, CERT_FIELDS, inner)
    _expect(body, "type", "device", inner)
    crypto.verify(
        election.authority_key,
        "urne/1/device",
        canonical_bytes(body),
        sig,
        where=f"{where}.signature",
    )
    # Checked after the signature so the message tells a forged file from another election's.
    _expect(body, "election", election.id, inner)
    check_device_name(body["device"], f"{inner}.device")
    _epoch(body["epoch"], f"{inner}.epoch")
    key = crypto.from_hex(body["key"], size=32, where=f"{inner}.key", error=EnrollmentError)
    try:
        date.fromisoformat(body["issued"])
    except (TypeError, ValueError) as exc:
        raise EnrollmentError(
            "bad issued date",
            where=f"{inner}.issued",
            expected="YYYY-MM-DD",
            got=repr(body["issued"]),
        ) from exc
    crypto.from_hex(body["secret_sealed"], where=f"{inner}.secret_sealed", error=EnrollmentError)
    return Certificate(
        body["device"], body["epoch"], key, body["issued"], body["election"], body, bytes(data)
    )


def install_certificate(home, data, election):
    """Check a certificate against this device's own keys and install it as device.cert."""
    home = Path(home)
    cert = read_certificate(data, election)
    key = crypto.load_private_key(home / "keys" / "device.key")
    if crypto.public_bytes(key) != cert.key:
        raise EnrollmentError(
            "certificate is for another device key",
            where="certificate.key",
            expected=crypto.fingerprint(crypto.public_bytes(key)),
            got=cert.fingerprint,
        )
    box = crypto.load_private_key(home / "keys" / "box.key", kind=X25519PrivateKey)
    cert.open_secret(box)
    write_atomic(home / "device.cert", cert.bytes, replace=True)
    return cert


def load_device(home, election):
    """(device signing key, Certificate, election secret) of an enrolled kiosk folder."""
    home = Path(home)
    path = home / "device.cert"
    if not path.exists():
        raise EnrollmentError("device not enrolled yet (no device.cert)", where=str(path))
    cert = read_certificate(path.read_bytes(), election, where=str(path))
    key = crypto.load_private_key(home / "keys" / "device.key")
    if crypto.public_bytes(key) != cert.key:
        raise EnrollmentError("device.cert does not match keys/device.key", where=str(path))
    box = crypto.load_private_key(home / "keys" / "box.key", kind=X25519PrivateKey)
    return key, cert, cert.open_secret(box)


# Revocations ------------------------------------------------------------------------------


def build_revocations(election, *, authority_key, revoked, serial):
    """Signed revocation list bytes; `revoked` is a list of {device, epoch, reason}."""
    entries = sorted(
        ({"device": r["device"], "epoch": r["epoch"], "reason": r["reason"]} for r in revoked),
        key=lambda r: (r["device"], r["epoch"]),
    )
    body = {"type": "revocations", "election": election.id, "serial": serial, "revoked": entries}
    _check_revocation_body(body, "revocations.revocations")
    return _signed("urne/1/revocation", authority_key, "revocations", body)


def _check_revocation_body(body, where):
    _fields(body, ("type", "election", "serial", "revoked"), where)
    _expect(body, "type", "revocations", where)
    if type(body["serial"]) is not int or body["serial"] < 1:
        raise EnrollmentError(
            "bad serial", where=f"{where}.serial", expected="integer >= 1", got=repr(body["serial"])
        )
    if not isinstance(body["revoked"], list) or len(body["revoked"]) > MAX_REVOKED:
        raise EnrollmentError(
            "bad revoked list", where=f"{where}.revoked", expected=f"a list of <= {MAX_REVOKED}"
        )
    for i, entry in enumerate(body["revoked"]):
        at = f"{where}.revoked[{i}]"
        if not isinstance(entry, dict):
            raise EnrollmentError(
                "bad entry", where=at, expected="object", got=type(entry).__name__
            )
        _fields(entry, ("device", "epoch", "reason"), at)
        check_device_name(entry["device"], f"{at}.device")
        _epoch(entry["epoch"], f"{at}.epoch")
        if not isinstance(entry["reason"], str) or not 0 < len(entry["reason"]) <= 200:
            raise EnrollmentError(
                "bad reason", where=f"{at}.reason", expected="1 to 200 characters"
            )


class Revocations:
    """A verified revocation list."""

    def __init__(self, body):
        self.body = body
        self.serial = body["serial"]
        self.revoked = {(r["device"], r["epoch"]): r["reason"] for r in body["revoked"]}

    def check(self, device, epoch, *, where="certificate"):
        """Raise RevokedError when this device epoch is revoked."""
        reason = self.revoked.get((device, epoch))
        if reason is not None:
            raise RevokedError(
                f"device {device} epoch {epoch} is revoked ({reason})",
                where=where,
                expected="a device not on the revocation list",
                got=f"revoked in list serial {self.serial}",
            )


def read_revocations(data, election, *, where="revocations"):
    """Verify a revocation list signed by the election's authority; return Revocations."""
    body, sig = _open_signed(data, "revocations", where)
    crypto.verify(
        election.authority_key,
        "urne/1/revocation",
        canonical_bytes(body),
        sig,
        where=f"{where}.signature",
    )
    _check_revocation_body(body, f"{where}.revocations")
    _expect(body, "election", election.id, f"{where}.revocations")
    return Revocations(body)


def write_atomic(path, data, *, replace=False):
    """Write a file atomically (temporary file, fsync, rename, fsync folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not replace:
        raise EnrollmentError("file already exists; refusing to overwrite", where=str(path))
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return path
