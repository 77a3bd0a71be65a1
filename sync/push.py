"""Signed push requests (kiosk to central): headers, signing and checking (docs/sync-protocol.md)."""

import hmac
import os
import re
from datetime import UTC, datetime, timedelta

from .canonical import canonical_bytes
from .crypto import from_hex, sha256_hex, sign, verify
from .errors import PushError

PATH = "/api/v1/bundles"
CONTENT_TYPE = "application/zip"
DOMAIN = "urne/1/push"
WINDOW_SECONDS = 600
NONCE_BYTES = 16

HEADERS = {
    "device": "Urne-Device",
    "epoch": "Urne-Epoch",
    "nonce": "Urne-Nonce",
    "time": "Urne-Time",
    "body_sha256": "Urne-Body-SHA256",
    "signature": "Urne-Signature",
}

# Header values must stay plain ASCII (HTTP), so device ids are restricted to a safe alphabet.
DEVICE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
EPOCH_RE = re.compile(r"0|[1-9][0-9]{0,15}")
TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class StalePushError(PushError):
    """The request's time is outside the accepted window around the central's clock."""


class ReplayedPushError(PushError):
    """The request's nonce was already used by this device."""


def _utc(now):
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise ValueError(f"now must be a timezone-aware datetime, got {now!r}")
    return now.astimezone(UTC)


def _random_bytes(rng, n):
    if rng is None:
        return os.urandom(n)
    if hasattr(rng, "randbytes"):
        return rng.randbytes(n)
    return rng(n)


def format_time(now):
    """The wire form of a time: UTC, to the second, e.g. 2026-05-16T09:30:00Z."""
    return _utc(now).strftime(TIME_FORMAT)


def push_payload(fields):
    """The exact bytes signed under urne/1/push: canonical JSON of the five request fields."""
    return canonical_bytes(
        {
            "body_sha256": fields["body_sha256"],
            "device": fields["device"],
            "epoch": fields["epoch"],
            "nonce": fields["nonce"],
            "time": fields["time"],
        }
    )


def sign_push(device_key, device, epoch, body, *, now, rng=None):
    """The headers of a push of body by (device, epoch), signed with the device's key."""
    if not isinstance(device, str) or not DEVICE_RE.fullmatch(device):
        raise PushError(
            "device id cannot travel in a header",
            where="device",
            expected="1-64 of A-Z a-z 0-9 . _ -",
            got=repr(device),
        )
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise PushError("bad epoch", where="epoch", expected="integer >= 0", got=repr(epoch))
    fields = {
        "device": device,
        "epoch": epoch,
        "nonce": _random_bytes(rng, NONCE_BYTES).hex(),
        "time": format_time(now),
        "body_sha256": sha256_hex(bytes(body)),
    }
    signature = sign(device_key, DOMAIN, push_payload(fields))
    headers = {HEADERS[name]: str(value) for name, value in fields.items()}
    headers[HEADERS["signature"]] = signature.hex()
    headers["Content-Type"] = CONTENT_TYPE
    return headers


def _header(headers, name):
    wanted = HEADERS[name].lower()
    values = [v for k, v in headers.items() if k.lower() == wanted]
    if not values:
        raise PushError("missing header", where=HEADERS[name])
    if len(values) > 1:
        raise PushError("header given twice", where=HEADERS[name], got=len(values))
    return values[0].strip()


def parse_push_headers(headers):
    """Read and shape-check the six push headers; return the fields and the raw signature."""
    fields = {name: _header(headers, name) for name in HEADERS}
    checks = {
        "device": (DEVICE_RE, "1-64 of A-Z a-z 0-9 . _ -"),
        "epoch": (EPOCH_RE, "a decimal integer >= 0"),
        "time": (TIME_RE, "YYYY-MM-DDTHH:MM:SSZ"),
    }
    for name, (pattern, expected) in checks.items():
        if not pattern.fullmatch(fields[name]):
            raise PushError(
                "malformed header", where=HEADERS[name], expected=expected, got=fields[name][:80]
            )
    fields["epoch"] = int(fields["epoch"])
    try:
        when = datetime.strptime(fields["time"], TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise PushError(
            "not a real date and time", where=HEADERS["time"], got=fields["time"]
        ) from exc
    from_hex(fields["nonce"], size=NONCE_BYTES, where=HEADERS["nonce"], error=PushError)
    from_hex(fields["body_sha256"], size=32, where=HEADERS["body_sha256"], error=PushError)
    signature = from_hex(
        fields.pop("signature"), size=64, where=HEADERS["signature"], error=PushError
    )
    return fields, when, signature


def verify_push(
    headers, body, device_key_lookup, *, now, seen_nonce, window_seconds=WINDOW_SECONDS
):
    """Authenticate a push; return (device, epoch) or raise PushError / SignatureError.

    device_key_lookup(device, epoch) returns the enrolled raw Ed25519 public key, or raises
    (EnrollmentError for an unknown device, RevokedError for a revoked one). seen_nonce(device,
    nonce, when) records the nonce and returns True when this device had already used it.
    """
    fields, when, signature = parse_push_headers(headers)
    if not hmac.compare_digest(sha256_hex(bytes(body)), fields["body_sha256"]):
        raise PushError(
            "body does not match its hash",
            where=HEADERS["body_sha256"],
            expected=fields["body_sha256"],
            got=sha256_hex(bytes(body)),
        )
    device, epoch = fields["device"], fields["epoch"]
    public_key = device_key_lookup(device, epoch)
    verify(public_key, DOMAIN, push_payload(fields), signature, where=HEADERS["signature"])
    # Checked only once the signature holds, so the answer's details go to the real device.
    skew = (when - _utc(now)).total_seconds()
    if abs(skew) > window_seconds:
        raise StalePushError(
            "request time outside the accepted window",
            where=HEADERS["time"],
            expected=f"within {window_seconds} s of {format_time(now)}",
            got=fields["time"],
        )
    # Recorded last: an unsigned or stale request must not burn a nonce.
    if seen_nonce(device, fields["nonce"], when):
        raise ReplayedPushError("nonce already used", where=HEADERS["nonce"], got=fields["nonce"])
    return device, epoch


class NonceMemory:
    """A seen_nonce for one process: remembers nonces for twice the window, then forgets them."""

    def __init__(self, window_seconds=WINDOW_SECONDS):
        self.keep = timedelta(seconds=2 * window_seconds)
        self.seen = {}

    def __call__(self, device, nonce, when):
        """Record (device, nonce); return True when it was already there."""
        # Older entries can go: their requests now fail the time check before reaching here.
        horizon = when - self.keep
        for key in [k for k, t in self.seen.items() if t < horizon]:
            del self.seen[key]
        key = (device, nonce)
        if key in self.seen:
            return True
        self.seen[key] = when
        return False
