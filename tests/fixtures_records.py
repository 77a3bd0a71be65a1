"""Shared fixtures of the trust core: a small fixed election, an enrolled device, signed chains.

Everything derives from fixed seeds, so the same bytes come out on every run (tests/vectors/).
"""

import random
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync import crypto, enroll, records, tags
from sync.bundle import write_bundle
from sync.election import build_package, read_package

NOW = datetime(2026, 5, 16, 10, 7)
DEVICE = "kiosk-01"

MINI_SOURCE = {
    "slug": "vectors",
    "title": {"fr": "Budget participatif (vecteurs)", "en": "Participatory budget (vectors)"},
    "intro": {"fr": "Élection d'essai.", "en": "Test election."},
    "privacy_notice": {"fr": "Aucune donnée réelle.", "en": "No real data."},
    "languages": ["fr", "en"],
    "window": {"opens": "2026-05-16", "closes": "2026-05-31", "timezone": "Europe/Paris"},
    "eligibility": {
        "identity_fields": ["last_name", "first_name", "birth_date", "postcode"],
        "min_age": 16,
        "postcode_prefixes": ["64"],
    },
    "sections": [
        {
            "id": "dept",
            "title": {"fr": "Département", "en": "Department"},
            "budget": 100000,
            "ballot": {"type": "approval", "min": 0, "max": 2},
            "tally": {"rules": ["greedy"]},
            "projects": [
                {
                    "id": f"d{i}",
                    "title": {"fr": f"Projet {i}"},
                    "summary": {"fr": f"Résumé {i}"},
                    "cost": 20000 * i,
                    "canton": "tout",
                    "category": "nature",
                }
                for i in (1, 2, 3)
            ],
        },
        {
            "id": "canton-1",
            "title": {"fr": "Canton 1"},
            "budget": 50000,
            "ballot": {"type": "cumulative", "points": 5, "max_per_project": 3},
            "tally": {"rules": ["greedy"]},
            "projects": [
                {
                    "id": f"c{i}",
                    "title": {"fr": f"Canton projet {i}"},
                    "summary": {"fr": "Résumé"},
                    "cost": 10000 * i,
                    "canton": "canton-1",
                    "category": "sport",
                }
                for i in (1, 2)
            ],
        },
    ],
}

# Valid selections the chain helper cycles through.
SELECTIONS = [
    {"dept": ["d1", "d3"], "canton-1": {"c1": 3, "c2": 2}},
    {"dept": [], "canton-1": {}},
    {"dept": ["d2"], "canton-1": {"c2": 1}},
]


def seeded_keys(seed):
    """Authority key, central X25519 key and election secret from a fixed seed."""
    rng = random.Random(seed)
    authority = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    central = X25519PrivateKey.from_private_bytes(rng.randbytes(32))
    return authority, central, rng.randbytes(32), rng


def mini_election(seed=1):
    """(Election, package bytes, authority key, central private key, secret) of MINI_SOURCE."""
    authority, central, secret, rng = seeded_keys(seed)
    package = build_package(
        MINI_SOURCE,
        authority_key=authority,
        central_public=crypto.public_bytes(central),
        secret=secret,
        rng=rng,
    )
    return read_package(package), package, authority, central, secret


def enroll_device(home, election, authority, secret, *, device=DEVICE, epoch=1, seed=2):
    """Run the real enrollment in `home`: keys, request, certificate, installation."""
    rng = random.Random(seed)
    home = Path(home)
    request = enroll.init_device(home, election, device, rng=rng)
    cert_bytes = enroll.certify(
        request.read_bytes(),
        election,
        authority_key=authority,
        secret=secret,
        epoch=epoch,
        issued=date(2026, 5, 1),
        rng=rng,
    )
    cert = enroll.install_certificate(home, cert_bytes, election)
    return cert, cert_bytes


def chain_records(ctx, n, *, start=1, prev=None, seed=3, sealed=None, close=False):
    """Yield n signed records (body_bytes, signature): session_open, ballots[, session_close]."""
    rng = random.Random(seed)
    e = ctx.election
    prev = prev or records.genesis(e.id, ctx.device, ctx.epoch)
    common = {"election_id": e.id, "device": ctx.device, "epoch": ctx.epoch}
    ballots = 0
    for seq in range(start, start + n):
        if seq == 1:
            body = records.new_record(
                "session_open", **common, seq=seq, prev=prev, time="2026-05-16T10:02", clock="agent"
            )
        elif close and seq == start + n - 1:
            body = records.new_record(
                "session_close", **common, seq=seq, prev=prev, time="2026-05-16T18:01",
                clock="agent", ballots=ballots, voids=0, total=ballots,
            )  # fmt: skip
        else:
            voter = sealed or tags.seal_tag(
                e.central_key,
                tags.voter_tag(ctx.voter_key, {"last_name": f"Voter {seq}", "first_name": "A"}),
                e.id,
                ephemeral=X25519PrivateKey.from_private_bytes(rng.randbytes(32)),
            )
            body = records.new_record(
                "ballot", **common, seq=seq, prev=prev, ballot=rng.randbytes(16).hex(),
                selections=SELECTIONS[seq % len(SELECTIONS)], channel="kiosk", lang="fr",
                time=records.coarse_time(NOW), clock="agent", voter=voter,
            )  # fmt: skip
            ballots += 1
        body_bytes, signature = records.sign_record(ctx.device_key, body)
        prev = records.record_hash(body_bytes)
        yield body_bytes, signature


def make_chain(ctx, n, **kw):
    """A list of n valid signed records, seq 1..n (see chain_records)."""
    return list(chain_records(ctx, n, **kw))


def golden_bundle(ctx, path, n=6, **kw):
    """Write a valid bundle of a fresh chain of n records; return its path."""
    return write_bundle(
        path,
        certificate_bytes=ctx.certificate_bytes,
        records=make_chain(ctx, n, **kw),
        device_key=ctx.device_key,
        now=NOW,
        cumulative=True,
    )


def make_enrolled(home, *, seed=1, device=DEVICE, epoch=1):
    """An enrolled kiosk folder and everything a test needs about it (a SimpleNamespace)."""
    election, package, authority, central, secret = mini_election(seed)
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    (home / "election.urne").write_bytes(package)
    cert, cert_bytes = enroll_device(home, election, authority, secret, device=device, epoch=epoch)
    device_key, _, opened = enroll.load_device(home, election)
    voter_key, receipt_key = tags.election_keys(opened)
    return SimpleNamespace(
        home=home,
        election=election,
        package=package,
        authority_key=authority,
        central_key=central,
        secret=opened,
        certificate=cert,
        certificate_bytes=cert_bytes,
        device_key=device_key,
        device=device,
        epoch=epoch,
        voter_key=voter_key,
        receipt_key=receipt_key,
    )


@pytest.fixture
def enrolled(tmp_path):
    """An enrolled kiosk folder (tmp_path/"kiosk") on the fixed mini election."""
    return make_enrolled(tmp_path / "kiosk")


@pytest.fixture
def golden(enrolled, tmp_path):
    """A valid cumulative bundle of 6 records (session_open and 5 ballots) of `enrolled`."""
    return golden_bundle(enrolled, tmp_path / "golden.zip")
