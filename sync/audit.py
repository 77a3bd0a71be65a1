"""The audit verifier: every bundle's checks, chains merged across overlapping bundles, in parallel.

Records stream through: the main process reads lines and checks each bundle's header, worker
processes check chunks of raw lines (bytes, signature, fields, links, selections) and send back
only hashes, so memory stays flat whatever the number of ballots.
"""

import multiprocessing
import os
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .bundle import RECORDS, check_tail, read_unverified_bundle, verify_header
from .election import read_package
from .errors import UrneError
from .records import RecordChecker, check_link, decode_line, genesis, record_hash

CHUNK_LINES = 400
TYPE_CODES = {
    "ballot": ord("b"),
    "void": ord("v"),
    "session_open": ord("o"),
    "session_close": ord("c"),
}
BUNDLE_SUFFIXES = (".zip",)


@dataclass
class BundleResult:
    """What became of one bundle file."""

    path: str
    ok: bool
    device: str | None = None
    epoch: int | None = None
    first: int | None = None
    last: int | None = None
    error: str | None = None
    error_class: str | None = None


@dataclass
class ChainReport:
    """One device epoch's chain, merged over every bundle that verified."""

    device: str
    epoch: int
    records: int = 0
    ballots: int = 0
    voids: int = 0
    sessions: int = 0
    last: int = 0
    head: str | None = None
    ranges: list = field(default_factory=list)
    gaps: list = field(default_factory=list)
    forks: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    @property
    def ok(self):
        """True when the chain has no gap, no fork and no broken link."""
        return not (self.gaps or self.forks or self.errors)


@dataclass
class AuditReport:
    """The verifier's findings; `ok` only when every bundle and every chain verified."""

    election: str
    bundles: list = field(default_factory=list)
    chains: list = field(default_factory=list)

    @property
    def ok(self):
        """True only when everything verified."""
        return (
            bool(self.bundles)
            and all(b.ok for b in self.bundles)
            and all(c.ok for c in self.chains)
        )

    def to_dict(self):
        """A JSON-ready dict of the report."""
        return {
            "election": self.election,
            "ok": self.ok,
            "bundles": [asdict(b) for b in self.bundles],
            "chains": [dict(asdict(c), ok=c.ok) for c in self.chains],
        }


# Worker side ------------------------------------------------------------------------------

_ELECTION = None
_CHECKERS = {}


def _init_worker(package):
    global _ELECTION
    _ELECTION = read_package(package)
    _CHECKERS.clear()


def _check_chunk(task):
    """Check a chunk of lines; return hashes and types, or the first error (class, message)."""
    key, device, epoch, lines = task
    checker = _CHECKERS.get((key, device, epoch))
    if checker is None:
        checker = RecordChecker(key=key, election=_ELECTION, device=device, epoch=epoch)
        _CHECKERS[(key, device, epoch)] = checker
    hashes, types = bytearray(), bytearray()
    first_seq = first_prev = None
    seq = prev = None
    for number, line in lines:
        where = f"{RECORDS}:{number}"
        try:
            body_bytes, signature = decode_line(line, where=where)
            body = checker.check(body_bytes, signature, where=where, selections=False)
            if seq is None:
                first_seq, first_prev = body["seq"], body["prev"]
            else:
                check_link(body, expected_seq=seq + 1, expected_prev=prev, where=where)
            checker.check_selections(body, where=where)
        except UrneError as exc:
            return None, (number, type(exc).__name__, str(exc))
        seq, prev = body["seq"], record_hash(body_bytes)
        hashes += bytes.fromhex(prev)
        types.append(TYPE_CODES[body["type"]])
    return (first_seq, first_prev, seq, prev, bytes(hashes), bytes(types)), None


# Main side --------------------------------------------------------------------------------


class _Chain:
    """Compact per-chain state: 32 bytes of hash and one type byte per seq."""

    def __init__(self, device, epoch):
        self.report = ChainReport(device, epoch)
        self.hashes = bytearray()
        self.types = bytearray()
        self.links = []  # (seq, prev, path): each bundle's first record, to link across bundles

    def merge(self, first, hashes, types, prev, path):
        end = first - 1 + len(types)
        if len(self.types) < end:
            grow = end - len(self.types)
            self.hashes += bytes(32 * grow)
            self.types += bytes(grow)
        for i in range(len(types)):
            seq = first + i
            have = self.types[seq - 1]
            h = hashes[32 * i : 32 * i + 32]
            if not have:
                self.hashes[32 * (seq - 1) : 32 * seq] = h
                self.types[seq - 1] = types[i]
            elif self.hashes[32 * (seq - 1) : 32 * seq] != h:
                self.report.forks.append({"seq": seq, "bundle": path})
        self.links.append((first, prev, path))
        self.report.ranges.append([first, end])

    def finish(self, election_id):
        r = self.report
        for seq, prev, path in self.links:
            if seq == 1:
                want = genesis(election_id, r.device, r.epoch)
            elif self.types[seq - 2]:
                want = self.hashes[32 * (seq - 2) : 32 * (seq - 1)].hex()
            else:
                continue  # reported as a gap below
            if prev != want:
                r.errors.append(f"{path}: record {seq} does not link to record {seq - 1}")
        r.last = len(self.types)
        r.records = r.last - self.types.count(0)
        r.ballots = self.types.count(TYPE_CODES["ballot"])
        r.voids = self.types.count(TYPE_CODES["void"])
        r.sessions = self.types.count(TYPE_CODES["session_open"])
        r.head = self.hashes[-32:].hex() if r.last else None
        pos = self.types.find(0)
        while pos != -1:
            end = pos
            while end + 1 < len(self.types) and not self.types[end + 1]:
                end += 1
            r.gaps.append([pos + 1, end + 1])
            pos = self.types.find(0, end + 1)
        r.ranges = _merge_ranges(r.ranges)
        return r


def _merge_ranges(ranges):
    out = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def bundle_paths(paths):
    """Bundle files named by `paths`: files as given, folders searched for *.zip, sorted."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.is_file() and q.suffix in BUNDLE_SUFFIXES)
        else:
            out.append(p)
    return out


def _chunks(ub, key, device, epoch):
    batch = []
    for item in ub.lines():
        batch.append(item)
        if len(batch) >= CHUNK_LINES:
            yield (key, device, epoch, batch)
            batch = []
    if batch:
        yield (key, device, epoch, batch)


def _run(tasks, pool, window):
    """Results of _check_chunk over tasks in order, with at most `window` chunks in flight."""
    if pool is None:
        for task in tasks:
            yield _check_chunk(task), len(task[3])
        return
    pending = deque()
    for task in tasks:
        pending.append((pool.apply_async(_check_chunk, (task,)), len(task[3])))
        if len(pending) >= window:
            result, n = pending.popleft()
            yield result.get(), n
    while pending:
        result, n = pending.popleft()
        yield result.get(), n


def _verify_records(ub, cert, election, pool, window, progress):
    m = ub.manifest
    expected_seq = m["first"]
    expected_prev = genesis(election.id, cert.device, cert.epoch) if m["first"] == 1 else None
    hashes, types, head, first_prev = bytearray(), bytearray(), None, None
    tasks = _chunks(ub, cert.key, cert.device, cert.epoch)
    for (ok, err), n in _run(tasks, pool, window):
        if progress:
            progress(n)
        if err:
            number, cls, message = err
            raise _Failure(cls, message)
        seq, prev, last, last_hash, h, t = ok
        where = f"{RECORDS}: chunk starting at seq {seq}"
        check_link(
            {"seq": seq, "prev": prev},
            expected_seq=expected_seq,
            expected_prev=expected_prev,
            where=where,
        )
        if first_prev is None:
            first_prev = prev
        hashes += h
        types += t
        expected_seq, expected_prev, head = last + 1, last_hash, last_hash
    check_tail(m, len(types), expected_seq - 1, head)
    return hashes, types, first_prev


class _Failure(Exception):
    """An error raised in a worker, carried back as its class name and message."""

    def __init__(self, cls, message):
        super().__init__(message)
        self.cls = cls


def audit(election, paths, *, revocations=None, workers=None, progress=None):
    """Verify every bundle under `paths` and merge their chains; return an AuditReport."""
    report = AuditReport(election.id)
    chains = {}
    workers = workers or os.cpu_count() or 1
    pool = None
    if workers > 1:
        ctx = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        pool = ctx.Pool(workers, initializer=_init_worker, initargs=(election.bytes,))
    else:
        _init_worker(election.bytes)
    try:
        for path in bundle_paths(paths):
            result = BundleResult(str(path), ok=False)
            report.bundles.append(result)
            try:
                ub = read_unverified_bundle(path)
                cert = verify_header(ub, election, revocations)
                m = ub.manifest
                result.device, result.epoch, result.first, result.last = (
                    cert.device,
                    cert.epoch,
                    m["first"],
                    m["last"],
                )
                hashes, types, first_prev = _verify_records(
                    ub, cert, election, pool, 4 * workers, progress
                )
            except UrneError as exc:
                result.error, result.error_class = str(exc), type(exc).__name__
                continue
            except _Failure as exc:
                result.error, result.error_class = str(exc), exc.cls
                continue
            result.ok = True
            chain = chains.setdefault((cert.device, cert.epoch), _Chain(cert.device, cert.epoch))
            chain.merge(m["first"], hashes, types, first_prev, str(path))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    report.chains = [chains[k].finish(election.id) for k in sorted(chains)]
    return report


def expected_records(paths):
    """How many records the bundles' manifests announce (for a progress bar; 0 if unreadable)."""
    from . import bundlezip
    from .bundle import LIMITS, MANIFEST, ORDER
    from .canonical import parse_canonical

    total = 0
    for path in bundle_paths(paths):
        try:
            with open(path, "rb") as f:
                members = bundlezip.read_layout(f, path.stat().st_size, ORDER, LIMITS)
                doc = parse_canonical(bundlezip.read_member(f, members[MANIFEST]))
            total += int(doc["manifest"]["count"])
        except (OSError, UrneError, KeyError, TypeError, ValueError):
            continue
    return total
