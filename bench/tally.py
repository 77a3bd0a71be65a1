"""Tally speed: prints figures (no asserts). Run: python3 bench/tally.py [--skip-pabutools]

1. equalshares/add1 on Wieliczka 2023: whole process, ours vs pabutools, same outcome.
2. equalshares/add1 on Warszawa 2020 Praga-Poludnie and Ursynow (target < 2 s each).
3. equalshares/add1 on demo-size elections (55-60 voters, 1,500,000 budget: thousands of +1
   steps): the plain +1 loop against the default (skipped steps), same outcome (target < 1 s).
4. greedy over 1,000,000 in-memory approval selections (target < 10 s).
"""

import argparse
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("URNE_PABULIB", ROOT.parent / "shared" / "data" / "pabulib"))

OURS = """
import sys
from sync.tally import read_pb, run_rule
pb = read_pb(sys.argv[1])
out = run_rule("equalshares/add1", pb.project_list(), pb.budget, pb.ballots, ballot_type=pb.ballot_type)
print(",".join(sorted(out.selected)))
"""
PABUTOOLS = """
import sys
from pabutools.election import Cost_Sat, parse_pabulib
from pabutools.rules import method_of_equal_shares
inst, prof = parse_pabulib(sys.argv[1])
out = method_of_equal_shares(inst, prof, sat_class=Cost_Sat, voter_budget_increment=1)
print(",".join(sorted(p.name for p in out)))
"""


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def whole_process(code, path, timeout=600):
    """(wall seconds, CPU seconds, stdout) of a fresh Python process running `code` on `path`."""
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return time.perf_counter() - start, _children_cpu() - cpu, done.stdout.strip()


def in_process(name):
    """(parse seconds, rule wall seconds, rule CPU seconds, outcome) of add1 on one file."""
    sys.path.insert(0, str(ROOT))
    from sync.tally import read_pb, run_rule

    start = time.perf_counter()
    pb = read_pb(DATA / name)
    parsed = time.perf_counter()
    cpu = time.process_time()
    out = run_rule(
        "equalshares/add1", pb.project_list(), pb.budget, pb.ballots, ballot_type=pb.ballot_type
    )
    return parsed - start, time.perf_counter() - parsed, time.process_time() - cpu, out


def demo_sizes(seeds=(1, 2, 3, 4, 5), voters=55, projects=9):
    """Per seed: (plain-loop runs, plain seconds, default seconds, same outcome?)."""
    sys.path.insert(0, str(ROOT))
    from fractions import Fraction

    from sync.tally.completion import _add1_reference, equal_shares
    from sync.tally.mes import MesData
    from sync.tally.model import make_instance, make_profile

    rows = []
    for seed in seeds:
        rng = random.Random(seed)
        ids = [f"D{i:02d}" for i in range(1, projects + 1)]
        plist = [{"id": p, "cost": rng.randrange(80, 320) * 1000} for p in ids]
        ballots = [sorted(rng.sample(ids, rng.randint(1, 4))) for _ in range(voters)]
        inst = make_instance(plist, 1_500_000)
        prof = make_profile(inst, ballots, "approval")
        start = time.perf_counter()
        data = MesData(inst, prof)
        ref = _add1_reference(data, Fraction(data.budget, prof.n), "add1")
        plain_s = time.perf_counter() - start
        start = time.perf_counter()
        out = equal_shares(inst, prof, completion="add1")
        rows.append((ref[3]["iterations"], plain_s, time.perf_counter() - start, out == ref))
    return rows


def million(n=1_000_000, projects=60, seed=7):
    """Seconds to tally n random approval selections (1..10 projects each) with greedy."""
    sys.path.insert(0, str(ROOT))
    from sync.tally import run_rule

    rng = random.Random(seed)
    ids = [f"P{i:03d}" for i in range(projects)]
    weights = [1 / (i + 1) for i in range(projects)]  # a few popular projects, a long tail
    ballots = [sorted(set(rng.choices(ids, weights, k=rng.randint(1, 10)))) for _ in range(n)]
    plist = [{"id": p, "cost": rng.randint(10, 200) * 1000} for p in ids]
    start = time.perf_counter()
    out = run_rule("greedy", plist, 2_000_000, ballots, ballot_type="approval")
    return time.perf_counter() - start, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--skip-pabutools", action="store_true", help="do not run pabutools (about 15 s)"
    )
    args = ap.parse_args()
    wiel = DATA / "Poland_Wieliczka_2023_Green_Budget.pb"
    print(f"load average before: {os.getloadavg()[0]:.1f} (2 cores; CPU seconds are steadier)")
    ours_s, ours_cpu, ours_out = whole_process(OURS, wiel)
    print(
        f"Wieliczka 2023 equalshares/add1, whole process: ours {ours_s:.2f} s (CPU {ours_cpu:.2f} s)"
    )
    if not args.skip_pabutools:
        pabu_s, pabu_cpu, pabu_out = whole_process(PABUTOOLS, wiel)
        same = "same outcome" if pabu_out == ours_out else "DIFFERENT OUTCOME"
        print(
            f"  pabutools {pabu_s:.2f} s (CPU {pabu_cpu:.2f} s): ours is {pabu_s / ours_s:.1f}x "
            f"faster (CPU {pabu_cpu / ours_cpu:.1f}x), {same}"
        )
    for name in ("Poland_Warszawa_2020_Praga-Poludnie.pb", "Poland_Warszawa_2020_Ursynow.pb"):
        parse_s, rule_s, rule_cpu, out = in_process(name)
        print(
            f"{name}: equalshares/add1 {rule_s:.2f} s (CPU {rule_cpu:.2f} s; + parse "
            f"{parse_s:.2f} s), {out.details['iterations']} runs, {len(out.selected)} funded, "
            f"spent {out.spent}"
        )
    for runs, plain_s, fast_s, same in demo_sizes():
        print(
            f"demo-size add1 (55 voters, 1,500,000): {runs} plain-loop runs, plain {plain_s:.2f} s, "
            f"default {fast_s:.3f} s, {'same outcome' if same else 'DIFFERENT OUTCOME'}"
        )
    secs, out = million()
    print(f"1,000,000 approval selections, greedy: {secs:.2f} s ({len(out.selected)} funded)")


if __name__ == "__main__":
    main()
