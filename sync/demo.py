"""A complete, always-open demo election: source, authority key, secret, central key, package."""

import datetime
import os
import secrets
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from . import crypto
from .demo_texts import DEMO_SOURCE
from .election import build_package, load_source
from .errors import ElectionError

OPEN_DAYS_BEFORE = 1
OPEN_DAYS_AFTER = 60


@dataclass(frozen=True)
class DemoPaths:
    """Where write_demo put each file."""

    dir: Path
    source: Path  # election.toml
    authority_key: Path  # authority/authority.key (Ed25519, no passphrase, 0600)
    secret: Path  # authority/election-secret (32 bytes, 0600)
    central_key: Path  # central.key (X25519, 0600)
    central_public: Path  # authority/central.pub (hex), what `urne election build` reads
    package: Path  # election.urne


def demo_paths(out_dir):
    """The paths write_demo uses under out_dir."""
    out = Path(out_dir)
    return DemoPaths(
        dir=out,
        source=out / "election.toml",
        authority_key=out / "authority" / "authority.key",
        secret=out / "authority" / "election-secret",
        central_key=out / "central.key",
        central_public=out / "authority" / "central.pub",
        package=out / "election.urne",
    )


def demo_source_text(now=None):
    """The demo's TOML, open from the day before `now` to 60 days after (Paris dates)."""
    now = now or datetime.datetime.now(datetime.UTC)
    if now.tzinfo is None:
        raise ElectionError("naive datetime", where="now", expected="a time zone", got="none")
    today = now.astimezone(zoneinfo.ZoneInfo("Europe/Paris")).date()
    opens = today - datetime.timedelta(days=OPEN_DAYS_BEFORE)
    closes = today + datetime.timedelta(days=OPEN_DAYS_AFTER)
    return DEMO_SOURCE.replace("@OPENS@", opens.isoformat()).replace("@CLOSES@", closes.isoformat())


def _random(rng, n):
    return rng.randbytes(n) if rng is not None else secrets.token_bytes(n)


def _write_new(path, data):
    # Exclusive create: a demo folder is never silently overwritten.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _files(paths):
    return (
        paths.source,
        paths.authority_key,
        paths.secret,
        paths.central_key,
        paths.central_public,
        paths.package,
    )


def write_demo(out_dir, *, now=None, rng=None):
    """Write the demo election's files into out_dir (refusing to overwrite) and return their paths."""
    paths = demo_paths(out_dir)
    for path in _files(paths):
        if path.exists():
            raise ElectionError("demo file already exists; refusing to overwrite", where=str(path))
    # Build everything in memory first, so a failure leaves no half-written folder.
    text = demo_source_text(now)
    authority_key = Ed25519PrivateKey.from_private_bytes(_random(rng, 32))
    central_key = X25519PrivateKey.from_private_bytes(_random(rng, 32))
    secret = _random(rng, 32)
    paths.dir.mkdir(parents=True, exist_ok=True)
    _write_new(paths.source, text.encode("utf-8"))
    source = load_source(paths.source)
    package = build_package(
        source,
        authority_key=authority_key,
        central_public=crypto.public_bytes(central_key),
        secret=secret,
        rng=rng,
    )
    crypto.write_private_key(paths.authority_key, authority_key)
    crypto.write_secret(paths.secret, secret)
    crypto.write_private_key(paths.central_key, central_key)
    _write_new(paths.central_public, (crypto.public_bytes(central_key).hex() + "\n").encode())
    _write_new(paths.package, package)
    return paths
