"""Benchmark the central's import: N ballots in bundles vs the raw Ed25519 verify rate, same run.

Usage: python3 bench/import.py [--ballots 100000] [--devices 50] [--workers N]
Prints the import rate, the raw Ed25519 verification rate on all cores, their ratio (target
>= 0.7) and the peak memory (RSS) of the importing process and of its workers.
"""

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

sys.path[:0] = [
    str(Path(__file__).resolve().parent.parent),
    str(Path(__file__).resolve().parent.parent / "tests"),
]

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey  # noqa: E402

NOW = datetime(2026, 5, 16, 12, 0, tzinfo=UTC)


def _make_device(args):
    """Write one device's bundle of n ballots (real enrollment, real signatures)."""
    root, name, n, seed = args
    from fixtures_central import make_central_kit  # noqa: F401 - loads the fixtures' helpers
    from fixtures_records import enroll_device, mini_election

    from sync import enroll, records, tags
    from sync.bundle import write_bundle

    election, package, authority, central, secret = mini_election(1)
    home = Path(root) / "devices" / name
    home.mkdir(parents=True)
    enroll_device(home, election, authority, secret, device=name, epoch=1, seed=seed)
    device_key, cert, opened = enroll.load_device(home, election)
    voter_key, _ = tags.election_keys(opened)
    rng = random.Random(seed)
    common = {"election_id": election.id, "device": name, "epoch": 1}
    prev = records.genesis(election.id, name, 1)
    sels = [
        {"dept": ["d1", "d3"], "canton-1": {"c1": 3, "c2": 2}},
        {"dept": ["d2"], "canton-1": {"c2": 1}},
    ]

    def chain():
        nonlocal prev
        for seq in range(1, n + 1):
            tag = tags.voter_tag(voter_key, {"last_name": f"{name}-{seq}", "first_name": "A"})
            sealed = tags.seal_tag(
                election.central_key,
                tag,
                election.id,
                ephemeral=X25519PrivateKey.from_private_bytes(rng.randbytes(32)),
            )
            body = records.new_record(
                "ballot", **common, seq=seq, prev=prev, ballot=rng.randbytes(16).hex(),
                selections=sels[seq % 2], channel="kiosk", lang="fr", time="2026-05-16T10:00",
                clock="agent", voter=sealed,
            )  # fmt: skip
            body_bytes, sig = records.sign_record(device_key, body)
            prev = records.record_hash(body_bytes)
            yield body_bytes, sig

    out = Path(root) / "bundles" / f"{name}.urne"
    out.parent.mkdir(exist_ok=True)
    write_bundle(
        out,
        certificate_bytes=cert.bytes,
        records=chain(),
        device_key=device_key,
        now=NOW,
        cumulative=True,
    )
    return str(out)


def _raw_chunk(n):
    key = Ed25519PrivateKey.generate()
    pub = key.public_key()
    msg = b"urne/1/record\x00" + b"x" * 700
    sig = key.sign(msg)
    t = time.perf_counter()
    for _ in range(n):
        pub.verify(sig, msg)
    return n, time.perf_counter() - t


def raw_rate(workers, n=20000):
    """Ed25519 verifications per second on all cores (cryptography/OpenSSL)."""
    t = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        total = sum(k for k, _ in pool.map(_raw_chunk, [n] * workers))
    return total / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ballots", type=int, default=100_000)
    ap.add_argument("--devices", type=int, default=50)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    args = ap.parse_args()
    from fixtures_central import PASSWORD
    from fixtures_records import mini_election

    from sync import crypto
    from sync.central_home import init_central, open_central
    from sync.importer import import_paths

    per = args.ballots // args.devices
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        jobs = [(tmp, f"k{i:03d}", per, 1000 + i) for i in range(args.devices)]
        with ProcessPoolExecutor(args.workers) as pool:
            paths = list(pool.map(_make_device, jobs))
        print(
            f"generated {per * args.devices} ballots in {len(paths)} bundles in {time.perf_counter() - t:.1f} s"
        )
        election, package, _, central_key, _ = mini_election(1)
        (root / "election.urne").write_bytes(package)
        crypto.write_private_key(root / "central.key", central_key)
        init_central(root / "central", root / "election.urne", root / "central.key", PASSWORD)
        raw_before = raw_rate(args.workers)
        with open_central(root / "central") as central:
            t = time.perf_counter()
            outcomes = import_paths(central, paths, now=NOW, workers=args.workers)
            elapsed = time.perf_counter() - t
            stored = central.store.conn.execute("SELECT count(*) FROM records").fetchone()[0]
        raw_after = raw_rate(args.workers)
    errors = [o.error for o in outcomes if o.error]
    raw = (raw_before + raw_after) / 2
    rate = stored / elapsed
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"imported {stored} records in {elapsed:.2f} s: {rate:,.0f} records/s ({len(errors)} errors)"
    )
    print(
        f"raw Ed25519 verify on {args.workers} cores: {raw:,.0f} /s (before {raw_before:,.0f}, after {raw_after:,.0f})"
    )
    print(f"ratio import / raw verify: {rate / raw:.2f} (target >= 0.7)")
    print(f"peak RSS: importer {self_mb:.0f} MB, largest worker {child_mb:.0f} MB")


if __name__ == "__main__":
    main()
