"""Fixtures of the central: a central folder, enrolled devices and real signed chains and bundles.

`central_kit(policy="hold", devices=("k1", "k2"))` (factory fixture) -> CentralKit with:
    home          the central's URNE_HOME (set up by the real init_central)
    election      the Election (the trust core's mini election, with the chosen policy)
    devices       name -> SimpleNamespace(device, epoch, device_key, certificate_bytes, ...)
    chain(name, events) -> list of (body_bytes, signature, body): a real signed chain
    bundle(name, recs, first=1, last=None) -> path of a real bundle of recs[first-1:last]
    open() -> sync.central_home.Central (close it, or use `with`)
Events of `chain`: ("open", time), ("ballot", voter, channel, time[, clock]), ("void", time),
("close", time); times are "YYYY-MM-DDTHH:MM". Ballot ids come from a seeded rng per device,
or from `chain(..., ballot_ids=[...])` in turn.
`downgrade(home, version)` makes a central database what an older Urne left (migration tests).
"""

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync import crypto, enroll, records, tags
from sync.bundle import write_bundle
from sync.central_home import init_central, open_central
from sync.election import build_package, read_package

NOW = datetime(2026, 5, 16, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"  # noqa: S105 - test password
SELECTIONS = [
    {"dept": ["d1", "d3"], "canton-1": {"c1": 3, "c2": 2}},
    {"dept": [], "canton-1": {}},
    {"dept": ["d2"], "canton-1": {"c2": 1}},
    {"dept": ["d1"], "canton-1": {"c1": 1}},
]


def identity(voter):
    """The identity fields of the mini election for a voter named `voter`."""
    return {"last_name": voter, "first_name": "A", "birth_date": "1980-01-01", "postcode": "64100"}


def policy_election(policy, seed=1):
    """(Election, package, authority, central key, secret) of the mini election with a policy."""
    from fixtures_records import (
        MINI_SOURCE,
        seeded_keys,
    )  # imported late: pytest loads it as a plugin

    authority, central, secret, rng = seeded_keys(seed)
    source = dict(MINI_SOURCE, duplicate_policy=policy)
    package = build_package(
        source,
        authority_key=authority,
        central_public=crypto.public_bytes(central),
        secret=secret,
        rng=rng,
    )
    return read_package(package), package, authority, central, secret


@dataclass
class CentralKit:
    """A central folder and enrolled devices of one election (see the module docstring)."""

    root: Path
    home: Path
    election: object
    package: bytes
    authority_key: object
    central_key: X25519PrivateKey
    secret: bytes
    devices: dict = field(default_factory=dict)
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    def open(self):
        return open_central(self.home)

    def chain(self, name, events, *, seed=7, ballot_ids=()):
        """A real signed chain for device `name` from a list of events."""
        ctx = self.devices[name]
        ballot_ids = iter(ballot_ids)
        rng = random.Random(f"{name}-{ctx.epoch}-{seed}")
        e = self.election
        prev = records.genesis(e.id, ctx.device, ctx.epoch)
        common = {"election_id": e.id, "device": ctx.device, "epoch": ctx.epoch}
        out, last_ballot, n = [], None, 0
        for seq, ev in enumerate(events, start=1):
            kind = ev[0]
            if kind == "open":
                body = records.new_record(
                    "session_open", **common, seq=seq, prev=prev, time=ev[1], clock="agent"
                )
            elif kind == "close":
                body = records.new_record(
                    "session_close", **common, seq=seq, prev=prev, time=ev[1], clock="agent",
                    ballots=n, voids=0, total=n,
                )  # fmt: skip
            elif kind == "void":
                body = records.new_record(
                    "void",
                    **common,
                    seq=seq,
                    prev=prev,
                    ballot=last_ballot,
                    reason="erreur",
                    time=ev[1],
                )
            else:
                _, voter, channel, time, *clock = ev
                tag = tags.voter_tag(ctx.voter_key, identity(voter))
                sealed = tags.seal_tag(
                    e.central_key,
                    tag,
                    e.id,
                    ephemeral=X25519PrivateKey.from_private_bytes(rng.randbytes(32)),
                )
                last_ballot = next(ballot_ids, None) or rng.randbytes(16).hex()
                body = records.new_record(
                    "ballot", **common, seq=seq, prev=prev, ballot=last_ballot,
                    selections=SELECTIONS[seq % len(SELECTIONS)], channel=channel, lang="fr",
                    time=time, clock=clock[0] if clock else "system", voter=sealed,
                )  # fmt: skip
                n += 1
            body_bytes, signature = records.sign_record(ctx.device_key, body)
            prev = records.record_hash(body_bytes)
            out.append((body_bytes, signature, body))
        return out

    def bundle(self, name, recs, first=1, last=None):
        """Write a real bundle of recs[first-1:last] of device `name`; its path."""
        ctx = self.devices[name]
        last = last or len(recs)
        path = self.root / "bundles" / f"{name}-{next(self._names)}.urne"
        path.parent.mkdir(exist_ok=True)
        return write_bundle(
            path,
            certificate_bytes=ctx.certificate_bytes,
            records=[(b, s) for b, s, _ in recs[first - 1 : last]],
            device_key=ctx.device_key,
            now=NOW,
            cumulative=first == 1,
        )


def make_central_kit(root, *, policy="hold", devices=("k1", "k2"), epoch=1):
    """A fresh central and enrolled devices under root."""
    from fixtures_records import enroll_device

    root = Path(root)
    election, package, authority, central, secret = policy_election(policy)
    root.mkdir(parents=True, exist_ok=True)
    (root / "election.urne").write_bytes(package)
    crypto.write_private_key(root / "central.key", central)
    init_central(
        root / "central",
        root / "election.urne",
        root / "central.key",
        PASSWORD,
        rng=random.Random(5),
    )
    kit = CentralKit(root, root / "central", election, package, authority, central, secret)
    for i, name in enumerate(devices):
        home = root / "devices" / name
        home.mkdir(parents=True)
        (home / "election.urne").write_bytes(package)
        cert, cert_bytes = enroll_device(
            home, election, authority, secret, device=name, epoch=epoch, seed=100 + i
        )
        device_key, _, opened = enroll.load_device(home, election)
        voter_key, receipt_key = tags.election_keys(opened)
        kit.devices[name] = SimpleNamespace(
            device=name, epoch=epoch, device_key=device_key, certificate=cert,
            certificate_bytes=cert_bytes, voter_key=voter_key, receipt_key=receipt_key,
        )  # fmt: skip
    return kit


def downgrade(home, version):
    """Undo the central's migrations above `version`, as a central of an older Urne left it."""
    import sqlite3

    with sqlite3.connect(Path(home) / "central.db") as conn:
        if version < 4:
            conn.execute("DROP INDEX tags_tag")
        if version < 3:
            conn.execute("DROP INDEX records_ballot_key")
            conn.execute("ALTER TABLE records DROP COLUMN ballot_key")
            conn.execute("CREATE INDEX records_ballot ON records (ballot) WHERE ballot IS NOT NULL")
        if version < 2:
            conn.execute("DROP TABLE push_nonces")
        conn.execute(f"PRAGMA user_version = {int(version)}")


@pytest.fixture
def central_kit(tmp_path):
    """Factory: central_kit(policy=..., devices=...) -> CentralKit under tmp_path."""
    counter = itertools.count(1)

    def make(**kw):
        return make_central_kit(tmp_path / f"kit{next(counter)}", **kw)

    return make
