"""The agent PIN: a scrypt hash in `agent.pin` (0600) and a lockout counter kept in SQLite.

Five wrong tries lock the PIN for 30 seconds; every further wrong try doubles the delay, up to an
hour. The counter lives in the kiosk database (`pin_state`), so a restart does not reset it, and a
try is counted *before* its answer is known, so killing the process mid-check gives no free try.
"""

import hashlib
import hmac
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from sync.errors import KeyFileError

from .errors import PinLocked, WrongPin

PIN_FILE = "agent.pin"
PIN_DIGITS = 6
MAX_TRIES = 5
FIRST_DELAY = 30
MAX_DELAY = 3600
# n=2^14, r=8 needs 16 MiB and about 50 ms here: slow enough for offline guessing of a stolen
# file to cost something, fast enough for a Raspberry Pi.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def new_pin(*, rng=None, digits=PIN_DIGITS):
    """A random numeric PIN (rng: anything with randrange, e.g. random.Random(1) in tests)."""
    rng = rng or secrets.SystemRandom()
    return str(rng.randrange(10**digits)).zfill(digits)


def hash_pin(pin, *, salt=None):
    """The stored form of a PIN: `scrypt$n$r$p$salt$hash` (hex)."""
    _check_pin(pin)
    salt = salt if salt is not None else os.urandom(16)
    derived = hashlib.scrypt(pin.encode(), salt=salt, dklen=32, **_SCRYPT)
    p = _SCRYPT
    return f"scrypt${p['n']}${p['r']}${p['p']}${salt.hex()}${derived.hex()}"


def pin_matches(pin, stored):
    """Whether the PIN matches its stored scrypt hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, expected = stored.strip().split("$")
        if scheme != "scrypt":
            raise ValueError(scheme)
        derived = hashlib.scrypt(
            pin.encode(),
            salt=bytes.fromhex(salt),
            dklen=32,
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=64 * 1024 * 1024,
        )
    except ValueError as exc:
        raise KeyFileError("the PIN file is malformed", expected="scrypt$n$r$p$salt$hash") from exc
    return hmac.compare_digest(derived.hex(), expected)


def write_pin(home, pin):
    """Store the PIN's hash in `home/agent.pin` (0600), atomically replacing any previous one."""
    path = Path(home) / PIN_FILE
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(hash_pin(pin) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def _check_pin(pin):
    if not isinstance(pin, str) or not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise ValueError("a PIN is 4 to 12 digits")


def lock_delay(failures):
    """Seconds of lockout after this many consecutive wrong tries (0 below MAX_TRIES)."""
    if failures < MAX_TRIES:
        return 0
    return min(FIRST_DELAY * 2 ** (failures - MAX_TRIES), MAX_DELAY)


def verify_pin(db, home, pin, *, now):
    """Check the agent PIN; return None, or raise PinLocked / WrongPin (db: sqlite-utils)."""
    stored = _read_pin_file(Path(home) / PIN_FILE)
    conn = db.conn
    # Count the try first, in its own committed transaction (see the module docstring).
    conn.execute("BEGIN IMMEDIATE")
    try:
        failures, locked_until = conn.execute(
            "SELECT failures, locked_until FROM pin_state WHERE one = 1"
        ).fetchone()
        if locked_until is not None:
            until = datetime.fromisoformat(locked_until)
            if now < until:
                conn.execute("ROLLBACK")
                raise PinLocked(until, max(1, int((until - now).total_seconds() + 0.999)))
        failures += 1
        delay = lock_delay(failures)
        until = now + timedelta(seconds=delay) if delay else None
        conn.execute(
            "UPDATE pin_state SET failures = ?, locked_until = ? WHERE one = 1",
            (failures, until.isoformat() if until else None),
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    if isinstance(pin, str) and pin.isdigit() and pin_matches(pin, stored):
        with conn:
            conn.execute("UPDATE pin_state SET failures = 0, locked_until = NULL WHERE one = 1")
        return
    if until is not None:
        raise PinLocked(until, delay)
    raise WrongPin(MAX_TRIES - failures)


def _read_pin_file(path):
    try:
        mode = path.stat().st_mode & 0o077
    except FileNotFoundError as exc:
        raise KeyFileError("no agent PIN is set: run `urne kiosk init`", where=str(path)) from exc
    if mode:
        raise KeyFileError("the PIN file is readable by others", where=str(path), expected="0600")
    return path.read_text()
