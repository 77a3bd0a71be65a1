"""`urne simulate`, a whole budget in one command: an election, enrolled kiosks, residents voting through the real
kiosk code (KioskStore), duplicate residents across stands, paper ballots, skewed clocks, and a
central folder ready to import the bundles.
"""

import json
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.errors import AlreadyVoted
from kiosk.setup import init_kiosk, install_certificate
from kiosk.store import KioskStore
from sync import crypto, enroll
from sync.canonical import canonical_bytes
from sync.central_home import init_central
from sync.demo import write_demo
from sync.election import read_package
from sync.errors import UrneError

START = datetime(2026, 5, 16, 7, 0, tzinfo=UTC)  # 09:00 in Paris, the first market day
DAYS = 2
LAST_NAMES = ("Etcheverry", "Garat", "Lafitte", "Dupont", "Haristoy", "Bordes", "Lacoste",
              "Mendiboure", "Ospital", "Cazenave", "Larralde", "Irigoyen", "Poueymirou", "Sallaberry")  # fmt: skip
FIRST_NAMES = ("Maité", "Jon", "Amaia", "Pierre", "Élodie", "Iñaki", "Louise", "Xabi", "Nerea",
               "Jean-Baptiste", "Chloé", "Ander", "Miren", "Lucas")  # fmt: skip
PASSWORD_FILE = "central-password.txt"  # noqa: S105 - a file name


def _identity(rng, i):
    """A resident: unique by index, postcode in the département (64)."""
    birth = datetime(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))
    return {
        "last_name": f"{rng.choice(LAST_NAMES)}-{i}",
        "first_name": rng.choice(FIRST_NAMES),
        "birth_date": birth.date().isoformat(),
        "postcode": f"64{rng.randrange(1000):03d}",
        "declaration": True,
    }


def _selections(rng, election):
    out = {}
    for s in election.sections:
        kind, ids = s.ballot["type"], [p["id"] for p in s.projects]
        if kind == "approval":
            out[s.id] = sorted(
                rng.sample(ids, rng.randint(max(1, s.ballot["min"]), s.ballot["max"]))
            )
        elif kind == "knapsack":
            chosen, spent = [], 0
            for pid in rng.sample(ids, len(ids)):
                cost = s.find(pid)["cost"]
                if spent + cost <= s.budget and rng.random() < 0.6:
                    chosen.append(pid)
                    spent += cost
            out[s.id] = sorted(chosen) if spent >= s.ballot["min_spend"] else []
        elif kind == "cumulative":
            pick = rng.sample(ids, min(len(ids), s.ballot["points"]))
            out[s.id] = {pid: 1 for pid in pick[: s.ballot["points"]]}
        else:
            out[s.id] = rng.sample(ids, rng.randint(1, s.ballot["k"]))
        s.validate(out[s.id])
    return out


def _kiosk(out, name, package_path, election, authority_key, secret, rng):
    home = out / "kiosks" / name
    made = init_kiosk(home, package_path, name, rng=rng)
    cert = enroll.certify(
        made.request.read_bytes(), election, authority_key=authority_key, secret=secret,
        epoch=1, issued=START.date(), rng=rng,
    )  # fmt: skip
    install_certificate(home, cert)
    return KioskStore.open(home, now=START)


def simulate(out, *, kiosks, voters, duplicates, paper=0.1, seed=1):
    """Run the simulation into `out` (new or empty); return the summary (also summary.json)."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise UrneError("the output folder is not empty", where=str(out))
    rng = random.Random(seed)
    paths = write_demo(out / "authority", now=START, rng=rng)
    package_path = out / "election.urne"
    shutil.copyfile(paths.package, package_path)
    election = read_package(package_path.read_bytes())
    authority_key = crypto.load_private_key(paths.authority_key)
    secret = crypto.read_secret(paths.secret)
    names = [f"kiosk-{k + 1:02d}" for k in range(kiosks)]
    stores = {n: _kiosk(out, n, package_path, election, authority_key, secret, rng) for n in names}
    # Each kiosk's clock is off by up to 40 minutes, and some have no real-time clock at all.
    skew = {n: timedelta(minutes=rng.randint(-40, 40)) for n in names}
    clock = {n: rng.choice(("system", "rtc")) for n in names}
    plan = []  # (true time, kiosk, resident index, channel)
    day_seconds = 9 * 3600
    for i in range(voters):
        day = rng.randrange(DAYS)
        t = START + timedelta(days=day, seconds=rng.randrange(day_seconds))
        first = rng.choice(names)
        plan.append((t, first, i, "paper" if rng.random() < paper else "kiosk"))
        if rng.random() < duplicates:
            other = [n for n in names if n != first] or [first]
            t2 = START + timedelta(days=rng.randrange(DAYS), seconds=rng.randrange(day_seconds))
            plan.append((t2, rng.choice(other), i, "kiosk"))
    plan.sort(key=lambda p: (p[0], p[1], p[2]))
    residents = {i: _identity(random.Random(f"{seed}-{i}"), i) for i in range(voters)}
    cast, refused, voids, per_resident = 0, 0, 0, {}
    export_dir = out / "exports"
    for day in range(DAYS):
        opened = START + timedelta(days=day) - timedelta(minutes=5)
        for n in names:
            stores[n].open_session(opened, clock="agent")
        for t, n, i, channel in (p for p in plan if (p[0] - START).days == day):
            local_now = t + skew[n]
            try:
                stores[n].cast(
                    _selections(rng, election), identity=residents[i], lang=rng.choice(election.languages),
                    channel=channel, now=local_now, clock=clock[n], rng=rng,
                )  # fmt: skip
            except AlreadyVoted:
                refused += 1
                continue
            if rng.random() < 0.01:
                # The resident changed their mind at once: void, then vote again.
                stores[n].void_last("changed my mind", now=local_now, window_seconds=300)
                voids += 1
                stores[n].cast(
                    _selections(rng, election), identity=residents[i], lang=election.languages[0],
                    channel=channel, now=local_now, clock=clock[n], rng=rng,
                )  # fmt: skip
            cast += 1
            per_resident[i] = per_resident.get(i, 0) + 1
        closed = START + timedelta(days=day, seconds=day_seconds + 600)
        for n in names:
            stores[n].close_session(closed, clock="agent")
            # One incremental export per day: the central sees each chain in pieces.
            (export_dir / n).mkdir(parents=True, exist_ok=True)
            stores[n].export(export_dir / n, now=closed)
    for store in stores.values():
        store.close()
    bundles = out / "bundles"
    bundles.mkdir()
    for path in sorted(export_dir.rglob("*.urne")):
        shutil.copyfile(path, bundles / path.name)
    password = rng.randbytes(12).hex()
    crypto.write_secret(out / PASSWORD_FILE, (password + "\n").encode())
    init_central(out / "central", package_path, paths.central_key, password, rng=rng)
    twice = sum(1 for c in per_resident.values() if c > 1)
    summary = {
        "election": election.id,
        "seed": seed,
        "kiosks": kiosks,
        "residents": voters,
        "ballots": cast,
        "voids": voids,
        "paper": sum(1 for p in plan if p[3] == "paper"),
        "refused_same_stand": refused,
        "residents_voting_twice": twice,
        "bundles": len(list(bundles.glob("*.urne"))),
        "policy": election.duplicate_policy,
        "expected_hold": {
            "counted": sum(1 for c in per_resident.values() if c == 1),
            "held": sum(c for c in per_resident.values() if c > 1),
            "voided": voids,
        },
        "central": "central",
        "password_file": PASSWORD_FILE,
    }
    (out / "summary.json").write_bytes(canonical_bytes(summary) + b"\n")
    return json.loads(canonical_bytes(summary))
