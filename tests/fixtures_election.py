"""Shared election fixtures: the demo election and small custom elections, all with real keys.

`demo` (session scope) -> DemoElection with attributes:
    paths          sync.demo.DemoPaths: .dir, .source (election.toml), .authority_key,
                   .secret, .central_key (files, mode 0600), .package (election.urne)
    election       sync.election.Election read back from paths.package
    package        the package bytes
    authority_key  Ed25519PrivateKey of the authority (no passphrase)
    secret         the 32-byte election secret
    central_key    X25519PrivateKey of the central (opens secret_sealed and voter tags)
  The demo is open from yesterday to 60 days ahead (Paris dates) by the real clock; its keys come
  from random.Random(64), so they are the same in every run. Treat it as read-only.

`make_election` (function scope) -> make(**overrides) -> ElectionKit with attributes
    election, package, source (the normalised dict), path (package written under tmp_path),
    authority_key, secret, central_key.
  Overrides replace top-level source fields (`sections=[...]`, `duplicate_policy="latest"`, ...);
  `ballot={...}` and `tally={...}` replace those of the single default section. `section(...)`
  below builds a section with n generated projects, e.g.:
      kit = make_election(ballot={"type": "cumulative", "points": 5, "max_per_project": 3})
      kit = make_election(sections=[section("a", n=3), section("b", ballot={"type": "ranked", "k": 2})])
"""

import copy
import datetime
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync import crypto
from sync.demo import DemoPaths, write_demo
from sync.election import Election, build_package, read_package, validate_source


@dataclass(frozen=True)
class DemoElection:
    """The demo election's files, keys and parsed package."""

    paths: DemoPaths
    election: Election
    package: bytes
    authority_key: Ed25519PrivateKey
    secret: bytes
    central_key: X25519PrivateKey


@dataclass(frozen=True)
class ElectionKit:
    """A small custom election with its keys."""

    election: Election
    package: bytes
    source: dict
    path: Path
    authority_key: Ed25519PrivateKey
    secret: bytes
    central_key: X25519PrivateKey


def section(sid="s1", *, n=4, cost=100, budget=None, ballot=None, tally=None, categories=None):
    """A section source with n projects `<sid>-p1`..., costs cost, 2*cost, ... and 2 cantons."""
    categories = categories or ["jeunesse", "culture"]
    projects = [
        {
            "id": f"{sid}-p{i}",
            "title": {"fr": f"Projet {i}", "en": f"Project {i}"},
            "summary": {"fr": f"Résumé du projet {i}.", "en": f"Summary of project {i}."},
            "cost": cost * i,
            "canton": ["Pau-1", "Bayonne-2"][i % 2],
            "category": categories[i % len(categories)],
        }
        for i in range(1, n + 1)
    ]
    return {
        "id": sid,
        "title": {"fr": f"Section {sid}", "en": f"Section {sid}"},
        "budget": budget if budget is not None else max(cost * n * (n + 1) // 4, cost * n),
        "ballot": ballot or {"type": "approval", "min": 0, "max": min(2, n)},
        "tally": tally or {"rules": ["greedy"]},
        "projects": projects,
    }


def base_source(today=None):
    """A valid two-language source with one approval section, open today (Paris date)."""
    today = today or datetime.date.today()
    return {
        "slug": "petite-election",
        "title": {"fr": "Petite élection", "en": "Small election"},
        "intro": {"fr": "Une élection de test.", "en": "A test election."},
        "privacy_notice": {
            "fr": "Seule une empreinte scellée est gardée.",
            "en": "Only a sealed fingerprint is kept.",
        },
        "languages": ["fr", "en"],
        "window": {
            "opens": (today - datetime.timedelta(days=1)).isoformat(),
            "closes": (today + datetime.timedelta(days=30)).isoformat(),
        },
        "eligibility": {
            "min_age": 16,
            "postcode_prefixes": ["64"],
            "identity_fields": ["last_name", "first_name", "birth_date", "postcode"],
        },
        "sections": [section()],
    }


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """The demo election (read-only; see the module docstring)."""
    paths = write_demo(tmp_path_factory.mktemp("demo") / "demo", rng=random.Random(64))
    package = paths.package.read_bytes()
    return DemoElection(
        paths=paths,
        election=read_package(package),
        package=package,
        authority_key=crypto.load_private_key(paths.authority_key),
        secret=crypto.read_secret(paths.secret),
        central_key=crypto.load_private_key(paths.central_key, kind=X25519PrivateKey),
    )


@pytest.fixture
def make_election(tmp_path):
    """A factory of small custom elections with fresh real keys (see the module docstring)."""
    counter = iter(range(1, 10**6))

    def make(*, ballot=None, tally=None, **overrides):
        source = base_source()
        if ballot is not None:
            source["sections"][0]["ballot"] = copy.deepcopy(ballot)
        if tally is not None:
            source["sections"][0]["tally"] = copy.deepcopy(tally)
        source.update(copy.deepcopy(overrides))
        authority_key = Ed25519PrivateKey.generate()
        central_key = X25519PrivateKey.generate()
        secret = random.randbytes(32)
        package = build_package(
            source,
            authority_key=authority_key,
            central_public=crypto.public_bytes(central_key),
            secret=secret,
        )
        path = tmp_path / f"election-{next(counter)}.urne"
        path.write_bytes(package)
        return ElectionKit(
            election=read_package(package),
            package=package,
            source=validate_source(source),
            path=path,
            authority_key=authority_key,
            secret=secret,
            central_key=central_key,
        )

    return make
