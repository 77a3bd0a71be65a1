"""Memory of a whole process tree while a benchmark runs (a parent and its worker processes)."""

import threading


def tree_pss(pid):
    """Proportional memory (PSS, bytes) of a process and its descendants, from /proc.

    PSS splits pages shared after fork between the processes, so the sum is not inflated.
    """
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


class PeakTree:
    """`with PeakTree(pid) as peak:` samples the tree's PSS; `peak.bytes` is the largest sum.

    `sample=False` samples nothing (`bytes` stays 0): reading /proc every 0.1 s takes 0.5 to 1 s
    of CPU a run from the cores being measured, so timed runs do without it.
    """

    def __init__(self, pid, every=0.1, *, sample=True):  # sampling /proc costs CPU
        self.pid, self.every, self.bytes, self.sample = pid, every, 0, sample
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.bytes = max(self.bytes, tree_pss(self.pid))
            self._stop.wait(self.every)

    def __enter__(self):
        if self.sample:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.sample:
            self._stop.set()
            self._thread.join()


def rounds_text(ratios):
    """Each round's ratio and their median, as the benches print them: "0.77, 0.81; median 0.79"."""
    import statistics

    return f"{', '.join(f'{x:.2f}' for x in ratios)}; median {statistics.median(ratios):.2f}"


def signed_samples(count=2000, size=560):
    """(public key, [(signature, message)]): `count` distinct messages of `size` bytes, signed.

    Distinct, like the records of a bundle: verification takes data-dependent branches, which
    repeat exactly when one signature is verified over and over. In one process on the
    development machine that was 8-10 % faster (2,000 distinct pairs vs one, three runs); on all
    cores the difference stayed within the machine's noise. bench/verify.py prints both.
    """
    import os

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    messages = [b"urne/1/record\x00" + os.urandom(size - 14) for _ in range(count)]
    return key.public_key(), [(key.sign(m), m) for m in messages]


def _raw_worker(args):
    import time

    seconds, repeat_one = args
    pub, samples = signed_samples()
    if repeat_one:  # the flattering variant, printed for comparison only
        samples = samples[:1] * len(samples)
    verify = pub.verify
    n, cpu, start = 0, time.process_time(), time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        for signature, message in samples:
            verify(signature, message)
        n += len(samples)
    return n, time.process_time() - cpu, time.perf_counter() - start


def raw_rate(cores=None, seconds=4.0, *, repeat_one=False):
    """(Ed25519 verifications per second on all cores, per CPU-second): one process per core.

    `repeat_one`: verify one signature over and over instead (see signed_samples).
    """
    import multiprocessing
    import os

    cores = cores or os.cpu_count() or 1
    with multiprocessing.get_context("fork").Pool(cores) as pool:
        results = pool.map(_raw_worker, [(seconds, repeat_one)] * cores)
    # Each process's rate over its own verification window, summed: starting the pool and signing
    # the samples (about 0.1 s) is not verification; counted in, it put the raw rate 3 to 5 % low
    # and every ratio as much too high (docs/benchmarks.md).
    n = sum(r[0] for r in results)
    return sum(r[0] / r[2] for r in results), n / sum(r[1] for r in results)
