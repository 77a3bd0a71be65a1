"""Cast latency (p50/p99) against a bare SQLite synchronous=FULL commit of the same size, and memory.

Library level: `python3 bench/cast.py [--casts 1000]` drives KioskStore.cast in this process.
HTTP level: `python3 bench/cast.py --http` starts `urne kiosk serve` (waitress) on a loopback port
and votes through the resident pages (check-in, sections, review, confirm), timing the confirm
request (the cast), then reads the server process's resident memory. Each cast is followed by one
bare commit, so both see the same disk and load. Both modes print one figure per line.
"""

import argparse
import datetime
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Bytes one cast commits: record row (body ~560, signature, hash, prev, ballot id, day: ~810),
# the voter tag (32) and the head row (~70), so the bare commit writes as much in one row.
RECORD_BYTES = 900
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def percentile(values, p):
    """The p-th percentile (nearest rank) of a list of numbers."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def rss_mib(pid="self"):
    """Resident memory (VmRSS) of a process in MiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Bare:
    """A bare SQLite table, WAL + synchronous=FULL, committing one row per transaction."""

    def __init__(self, folder):
        self.conn = sqlite3.connect(folder / "bare.db", isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        self.times = []

    def commit(self, size):
        """Time one commit of `size` random bytes (ms)."""
        blob = os.urandom(size)
        start = time.perf_counter()
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("INSERT INTO t (body) VALUES (?)", (blob,))
        self.conn.execute("COMMIT")
        self.times.append((time.perf_counter() - start) * 1000)


def make_kiosk(folder, now):
    """An enrolled demo kiosk with an open session; returns its folder."""
    from kiosk.setup import setup_demo

    home = folder / "kiosk"
    setup_demo(home, now=now, rng=random.Random(1))
    return home


def library(casts, folder, bare):
    """Time KioskStore.cast in this process, each followed by one bare commit of its size."""
    from fixtures_kiosk import demo_selections, resident

    from kiosk.store import KioskStore

    now = datetime.datetime.now(datetime.UTC)
    home = make_kiosk(folder, now)
    store = KioskStore.open(home, now=now)
    times = []
    for n in range(casts):
        selections = demo_selections(store, n)
        start = time.perf_counter()
        store.cast(selections, identity=resident(n), lang="fr", now=now, clock="agent")
        times.append((time.perf_counter() - start) * 1000)
        # Interleaved, so both see the same disk and the same neighbours' load.
        bare.commit(RECORD_BYTES)
    memory = rss_mib()
    store.close()
    start = time.perf_counter()
    KioskStore.open(home, now=now).close()
    print(f"start-up check (integrity + chain of {casts + 1} records) ms: "
          f"{(time.perf_counter() - start) * 1000:.0f}")  # fmt: skip
    return times, memory


def http_run(casts, folder, bare):
    """Time the confirm request of whole votes against a real `urne kiosk serve` process."""
    from fixtures_kiosk import HttpVoter, KioskServer, resident

    from sync.election import read_package

    home = make_kiosk(folder, datetime.datetime.now(datetime.UTC))
    server = KioskServer(home)
    url = server.url
    try:
        election = read_package((home / "election.urne").read_bytes())
        times, flows = [], []
        for n in range(casts):
            start = time.perf_counter()
            _code, ms = HttpVoter(url).vote(election, resident(n), n)
            flows.append((time.perf_counter() - start) * 1000)
            times.append(ms)
            bare.commit(RECORD_BYTES)
        memory = rss_mib(server.process.pid)
    finally:
        server.stop()
    print(f"whole vote (9 requests) p50 ms: {percentile(flows, 50):.2f}")
    print(f"whole vote (9 requests) p99 ms: {percentile(flows, 99):.2f}")
    return times, memory


def report(label, times, bare, size, memory):
    """Print the figures of one run."""
    p50, p99 = percentile(times, 50), percentile(times, 99)
    b50, b99 = percentile(bare, 50), percentile(bare, 99)
    print(f"mode: {label}")
    print(f"casts: {len(times)}")
    print(f"cast p50 ms: {p50:.2f}")
    print(f"cast p99 ms: {p99:.2f}")
    print(f"cast mean ms: {statistics.fmean(times):.2f}")
    print(f"bare commit bytes: {size}")
    print(f"bare commit p50 ms: {b50:.2f}")
    print(f"bare commit p99 ms: {b99:.2f}")
    print(f"ratio p50 cast/bare: {p50 / b50:.2f}")
    print(f"ratio p99 cast/bare: {p99 / b99:.2f}")
    print(f"kiosk process RSS after {len(times)} casts MiB: {memory:.1f}")


def main(argv=None):
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--casts", type=int, default=1000)
    parser.add_argument("--http", action="store_true", help="over loopback HTTP")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="urne-bench-") as tmp:
        folder = Path(tmp)
        bare = Bare(folder)
        if args.http:
            times, memory = http_run(args.casts, folder, bare)
        else:
            times, memory = library(args.casts, folder, bare)
        report("http" if args.http else "library", times, bare.times, RECORD_BYTES, memory)


if __name__ == "__main__":
    main()
