"""Time of the agent status page's chain check (KioskStore.check) per stored record.

Usage: python3 bench/kiosk_check.py [--ballots 2000]
Builds a demo kiosk in a temporary folder, casts N ballots, then times three full checks (SQLite
integrity check and the whole chain's signatures) and prints the best, in ms and per record.
"""

import argparse
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main():
    """Print the load average, then the best of three checks: total ms and µs per record."""
    from fixtures_kiosk import demo_selections, resident

    from kiosk.setup import setup_demo
    from kiosk.store import KioskStore

    parser = argparse.ArgumentParser()
    parser.add_argument("--ballots", type=int, default=2000)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f}")
    now = datetime.datetime.now(datetime.UTC)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "kiosk"
        setup_demo(home, now=now)
        store = KioskStore.open(home, now=now)
        try:
            for n in range(args.ballots):
                store.cast(demo_selections(store, n), identity=resident(n), lang="fr", now=now,
                           clock="agent")  # fmt: skip
            best = min(_timed(store, now) for _ in range(3))
            records = store.chain.records
        finally:
            store.close()
    print(f"records: {records}")
    print(f"check: {best * 1000:.0f} ms")
    print(f"per record: {best / records * 1e6:.0f} us")


def _timed(store, now):
    start = time.perf_counter()
    store.check(now=now)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
