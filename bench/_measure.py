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
    """`with PeakTree(pid) as peak:` samples the tree's PSS; `peak.bytes` is the largest sum."""

    def __init__(self, pid, every=0.1):  # sampling /proc costs CPU: not too often
        self.pid, self.every, self.bytes = pid, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.bytes = max(self.bytes, tree_pss(self.pid))
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
