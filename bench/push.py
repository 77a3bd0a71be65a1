"""Benchmark the push endpoint: K kiosks push N ballots each at once to a real central on loopback.

Usage: python3 bench/push.py [--devices 50] [--ballots-per-device 2000] [--threads 16]
Starts `urne central serve` (waitress), pushes every kiosk's bundle from its own thread (signed
requests, real bundles), then pushes them all again (a retry after a lost answer). Prints the
wall time, records per second, request latencies, and checks that every ballot was imported
exactly once, that every retry answered already-present and that the server never logged
"database is locked".
"""

import argparse
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def _bench_import():
    # bench/import.py holds the bundle generator; its name is a keyword, so load it by path.
    spec = importlib.util.spec_from_file_location("bench_import", ROOT / "bench" / "import.py")
    module = importlib.util.module_from_spec(spec)
    # Registered so that worker processes can unpickle its functions by name.
    sys.modules["bench_import"] = module
    spec.loader.exec_module(module)
    return module


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _push(url, home, bundle):
    """Push one bundle signed by its device; (HTTP status, answer, seconds)."""
    from fixtures_records import mini_election

    from sync import enroll
    from sync.push import PATH, sign_push

    election = mini_election(1)[0]
    key, cert, _ = enroll.load_device(home, election)
    body = Path(bundle).read_bytes()
    headers = sign_push(key, cert.device, cert.epoch, body, now=datetime.now(UTC))
    request = urllib.request.Request(url + PATH, data=body, headers=headers, method="POST")
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=600) as r:  # noqa: S310 - loopback
            return r.status, json.loads(r.read()), time.perf_counter() - t
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), time.perf_counter() - t


def _round(url, root, paths, threads):
    jobs = [(url, Path(root) / "devices" / Path(p).stem, p) for p in paths]
    t = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        answers = list(pool.map(lambda j: _push(*j), jobs))
    return answers, time.perf_counter() - t


def _quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=50)
    ap.add_argument("--ballots-per-device", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=16, help="server threads (waitress)")
    args = ap.parse_args()
    from fixtures_central import PASSWORD
    from fixtures_records import mini_election

    from sync import crypto
    from sync.central_home import init_central, open_central

    make_device = _bench_import()._make_device
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        jobs = [(tmp, f"k{i:03d}", args.ballots_per_device, 1000 + i) for i in range(args.devices)]
        with ProcessPoolExecutor(os.cpu_count()) as pool:
            paths = list(pool.map(make_device, jobs))
        total = args.devices * args.ballots_per_device
        print(
            f"generated {total} ballots in {len(paths)} bundles in {time.perf_counter() - t:.1f} s"
        )
        _, package, _, central_key, _ = mini_election(1)
        (root / "election.urne").write_bytes(package)
        crypto.write_private_key(root / "central.key", central_key)
        home = init_central(
            root / "central", root / "election.urne", root / "central.key", PASSWORD
        )
        port = _free_port()
        log = root / "serve.log"
        env = dict(os.environ, URNE_HOME=str(home))
        cmd = [sys.executable, "-c", "import app; app.main()", "central", "serve", "--host",
               "127.0.0.1", "--port", str(port), "--threads", str(args.threads)]  # fmt: skip
        with open(log, "wb") as out:
            server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(url + "/healthz", timeout=1).close()  # noqa: S310
                    break
                except OSError:
                    time.sleep(0.1)
            first, elapsed = _round(url, root, paths, args.devices)
            retry, elapsed_retry = _round(url, root, paths, args.devices)
        finally:
            server.terminate()
            server.wait(timeout=30)
        with open_central(home) as c:
            stored = c.store.conn.execute(
                "SELECT count(*), count(DISTINCT ballot) FROM records"
            ).fetchone()
        server_log = log.read_text(errors="replace")
    bad = [(s, a) for s, a, _ in first if s != 200 or a.get("status") != "imported"]
    bad_retry = [(s, a) for s, a, _ in retry if s != 200 or a.get("status") != "already-present"]
    latencies = [d for _, _, d in first]
    print(
        f"first round: {len(paths)} pushes at once in {elapsed:.2f} s, {total / elapsed:,.0f} ballots/s"
    )
    print(f"  latency p50 {_quantile(latencies, 0.5):.2f} s, p95 {_quantile(latencies, 0.95):.2f} s, "
          f"max {max(latencies):.2f} s; refused {len(bad)}")  # fmt: skip
    print(
        f"retry round (same bundles, fresh nonces): {elapsed_retry:.2f} s; not already-present {len(bad_retry)}"
    )
    print(f"stored records {stored[0]}, distinct ballots {stored[1]} (expected {total} each)")
    locked = server_log.count("database is locked")
    print(f"'database is locked' in the server log: {locked}")
    ok = not bad and not bad_retry and stored[0] == stored[1] == total and locked == 0
    if not ok:
        print("FAILED", bad[:3], bad_retry[:3])
        sys.exit(1)
    print("OK: every ballot imported exactly once, no error")


if __name__ == "__main__":
    main()
