"""Benchmark the central's import: N ballots in bundles vs the raw Ed25519 verify rate, same run.

Usage: python3 bench/import.py [--ballots 100000] [--devices 50] [--workers N] [--rounds R]
Prints the load average at start; per round (each into a fresh central) the import rate between
two measurements of the raw Ed25519 verification rate on all cores, and their ratio on wall time
and on CPU time (target >= 0.7); their median and best; the peak memory of the importing process
and its workers together (PSS, sampled in one more import, not timed; target < 300 MB at
1,000,000 ballots). The raw rate verifies 2,000 distinct signatures in turn, like a bundle's, over
each process's own verification time (bench/_measure.py).
"""

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path[:0] = [
    str(Path(__file__).resolve().parent.parent),
    str(Path(__file__).resolve().parent.parent / "tests"),
]

from _bundles import NOW  # noqa: E402 - bench/_bundles.py, shared with bench/tally.py
from _bundles import make_device_job as _make_device  # noqa: E402
from _measure import PeakTree, raw_rate, rounds_text  # noqa: E402


def _cpu():
    """CPU seconds of this process and of its reaped children (the import's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def import_once(root, paths, workers, number, *, memory=False):
    """Import into a fresh central: (records stored, seconds, CPU seconds, errors, peak PSS)."""
    from fixtures_central import PASSWORD

    from sync.central_home import init_central, open_central
    from sync.importer import import_paths

    home = root / f"central-{number}"
    init_central(home, root / "election.urne", root / "central.key", PASSWORD)
    # The memory is measured in a round of its own, not timed (see PeakTree).
    with open_central(home) as central, PeakTree(os.getpid(), sample=memory) as peak:
        cpu, t = _cpu(), time.perf_counter()
        outcomes = import_paths(central, paths, now=NOW, workers=workers)
        elapsed, cpu = time.perf_counter() - t, _cpu() - cpu
        stored = central.store.conn.execute("SELECT count(*) FROM records").fetchone()[0]
    shutil.rmtree(home)
    errors = sum(1 for o in outcomes if o.error)
    return stored, elapsed, cpu, errors, peak.bytes


def one_round(root, paths, workers, number):
    """Raw rate, import into a fresh central, raw rate again: a dict of figures."""
    before, cpu_before = raw_rate()
    stored, elapsed, cpu, errors, _ = import_once(root, paths, workers, number)
    after, cpu_after = raw_rate()
    raw, raw_cpu = (before + after) / 2, (cpu_before + cpu_after) / 2
    return {
        "stored": stored, "seconds": elapsed, "cpu": cpu, "raw": raw, "before": before,
        "after": after, "raw_cpu": raw_cpu, "errors": errors,
        "wall_ratio": stored / elapsed / raw, "cpu_ratio": stored / cpu / raw_cpu,
    }  # fmt: skip


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ballots", type=int, default=100_000)
    ap.add_argument("--devices", type=int, default=50)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--rounds", type=int, default=2, help="Median of this many imports.")
    args = ap.parse_args()
    from fixtures_records import mini_election

    from sync import crypto

    load = os.getloadavg()
    print(f"cores {os.cpu_count()}, load average at start {load[0]:.1f} {load[1]:.1f}")
    per = args.ballots // args.devices
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        jobs = [(tmp, f"k{i:03d}", per, 1000 + i) for i in range(args.devices)]
        with ProcessPoolExecutor(args.workers) as pool:
            paths = list(pool.map(_make_device, jobs))
        took = time.perf_counter() - t
        print(f"generated {per * args.devices} ballots in {len(paths)} bundles in {took:.1f} s")
        election, package, _, central_key, _ = mini_election(1)
        (root / "election.urne").write_bytes(package)
        crypto.write_private_key(root / "central.key", central_key)
        rounds = []
        for i in range(args.rounds):
            r = one_round(root, paths, args.workers, i)
            rounds.append(r)
            print(
                f"round {i + 1}: imported {r['stored']} records in {r['seconds']:.2f} s,"
                f" CPU {r['cpu']:.2f} s ({r['stored'] / r['seconds']:,.0f}/s, {r['errors']} errors), raw"
                f" {r['raw']:,.0f}/s (before {r['before']:,.0f}, after {r['after']:,.0f});"
                f" ratio wall {r['wall_ratio']:.2f}, CPU {r['cpu_ratio']:.2f};"
                f" load {os.getloadavg()[0]:.1f}"
            )
        tree_mb = import_once(root, paths, args.workers, "memory", memory=True)[4] / 1e6
    n = args.rounds
    for key, label in (("wall_ratio", "wall clock"), ("cpu_ratio", "CPU time")):
        ratios = [r[key] for r in rounds]
        print(
            f"ratio import / raw verify, {label}: {rounds_text(ratios)}, best {max(ratios):.2f}"
            f" of {n} (target >= 0.7)"
        )
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"peak memory of the importer and its workers together: {tree_mb:.0f} MB PSS, in one more"
        " import, not timed (target < 300 MB)"
    )
    # ru_maxrss of the children also covers the processes that generated the bundles.
    print(f"peak RSS, one process: importer {self_mb:.0f} MB, largest child {child_mb:.0f} MB")


if __name__ == "__main__":
    main()
