"""The audit verifier: every bundle's checks, chains merged across overlapping bundles, in parallel.

Records stream through: the main process reads lines and checks each bundle's header, worker
processes check chunks of raw lines (bytes, signature, fields, links, selections) and send back
only hashes, so memory stays flat whatever the number of ballots.
"""

import hashlib
import multiprocessing
import os
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .audit_published import is_published, replay
from .bundle import RECORDS, check_tail, read_unverified_bundle, split_block, verify_header
from .chain import NO_ID, TYPE_CODES, ChainState
from .election import read_package
from .errors import UrneError
from .records import RECORD_PREFIX, RecordChecker, check_link, decode_line, genesis

CHUNK_BYTES = 256 * 1024  # about 370 ballots: a task big enough to hide the pickling
BUNDLE_SUFFIXES = (".urne", ".zip")


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
class AuditReport:
    """The verifier's findings; `ok` only when every bundle and every chain verified."""

    election: str
    bundles: list = field(default_factory=list)
    chains: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    published: list = field(default_factory=list)  # PublishedCheck of each audit folder

    @property
    def ok(self):
        """True only when everything verified."""
        return (
            bool(self.bundles)
            and all(b.ok for b in self.bundles)
            and all(c.ok for c in self.chains)
            and all(p.ok for p in self.published)
        )

    def to_dict(self):
        """A JSON-ready dict of the report."""
        return {
            "election": self.election,
            "ok": self.ok,
            "bundles": [asdict(b) for b in self.bundles],
            "chains": [dict(asdict(c), ok=c.ok) for c in self.chains],
            "skipped": [str(p) for p in self.skipped],
            "published": [asdict(p) for p in self.published],
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
    key, device, epoch, first, block = task
    checker = _CHECKERS.get((key, device, epoch))
    if checker is None:
        checker = RecordChecker(key=key, election=_ELECTION, device=device, epoch=epoch)
        _CHECKERS[(key, device, epoch)] = checker
    hashes, types, ids, closes = bytearray(), bytearray(), bytearray(), []
    first_seq = first_prev = None
    seq = prev = None
    number = first
    try:
        lines = split_block(first, block)
        fast, sha256, ballot_code = checker.fast_line, hashlib.sha256, TYPE_CODES["ballot"]
        for number, line in lines:
            got = fast(line)
            if got is not None:  # the hot path: one regex, one signature, one hash
                this, this_prev, ballot, message = got
                if seq is None:
                    first_seq, first_prev = this, this_prev
                elif this != seq + 1 or this_prev != prev:
                    link = {"seq": this, "prev": this_prev}
                    check_link(link, expected_seq=seq + 1, expected_prev=prev, where=_at(number))
                digest = sha256(message).digest()
                seq, prev = this, digest.hex()
                hashes += digest
                types.append(ballot_code)
                ids += bytes.fromhex(ballot)
                continue
            where = _at(number)
            body_bytes, signature = decode_line(line, where=where)
            this, this_prev, kind, body, ballot = checker.check_light(
                body_bytes, signature, where=where
            )
            if seq is None:
                first_seq, first_prev = this, this_prev
            else:
                link = {"seq": this, "prev": this_prev}
                check_link(link, expected_seq=seq + 1, expected_prev=prev, where=where)
            if body is not None:  # parsed the full way: the selections are checked here
                checker.check_selections(body, where=where)
            digest = sha256(RECORD_PREFIX + body_bytes).digest()
            seq, prev = this, digest.hex()
            hashes += digest
            types.append(TYPE_CODES[kind])
            ids += bytes.fromhex(ballot) if ballot else NO_ID
            if kind == "session_close":
                closes.append((seq, (body["ballots"], body["voids"], body["total"])))
    except UrneError as exc:
        return None, (number, type(exc).__name__, str(exc))
    part = (bytes(hashes), bytes(types), bytes(ids), closes)
    return (first_seq, first_prev, seq, prev, part), None


def _at(number):
    return f"{RECORDS}:{number}"


# Main side --------------------------------------------------------------------------------


def scan(paths):
    """(bundle files, skipped files) named by `paths`: files as given, folders searched.

    In folders, *.zip and *.urne files are bundles, except .urne files that are JSON documents
    (an election package, a revocation list), which are listed as skipped, never silently.
    """
    bundles, skipped = [], []
    for p in map(Path, paths):
        if not p.is_dir():
            bundles.append(p)
            continue
        for q in sorted(p.rglob("*")):
            if not q.is_file() or q.suffix not in BUNDLE_SUFFIXES:
                continue
            with open(q, "rb") as f:
                first = f.read(1)
            (skipped if q.suffix == ".urne" and first == b"{" else bundles).append(q)
    return bundles, skipped


def bundle_paths(paths):
    """The bundle files named by `paths` (see scan)."""
    return scan(paths)[0]


def _chunks(ub, key, device, epoch):
    for first, block in ub.blocks(CHUNK_BYTES):
        yield (key, device, epoch, first, block)


def _run(tasks, pool, window):
    """Results of _check_chunk over tasks in order, with at most `window` chunks in flight."""
    if pool is None:
        for task in tasks:
            yield _check_chunk(task), task[4].count(b"\n")
        return
    pending = deque()
    for task in tasks:
        pending.append((pool.apply_async(_check_chunk, (task,)), task[4].count(b"\n")))
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
    hashes, types, ids, closes = bytearray(), bytearray(), bytearray(), []
    head = first_prev = None
    tasks = _chunks(ub, cert.key, cert.device, cert.epoch)
    for (ok, err), n in _run(tasks, pool, window):
        if progress:
            progress(n)
        if err:
            number, cls, message = err
            raise _Failure(cls, message)
        seq, prev, last, last_hash, part = ok
        where = f"{RECORDS}: chunk starting at seq {seq}"
        check_link(
            {"seq": seq, "prev": prev},
            expected_seq=expected_seq,
            expected_prev=expected_prev,
            where=where,
        )
        if first_prev is None:
            first_prev = prev
        hashes += part[0]
        types += part[1]
        ids += part[2]
        closes += part[3]
        expected_seq, expected_prev, head = last + 1, last_hash, last_hash
    check_tail(m, len(types), expected_seq - 1, head)
    return (hashes, types, ids, closes), first_prev


class _Failure(Exception):
    """An error raised in a worker, carried back as its class name and message."""

    def __init__(self, cls, message):
        super().__init__(message)
        self.cls = cls


def audit(election, paths, *, revocations=None, workers=None, progress=None):
    """Verify every bundle under `paths` and merge their chains; return an AuditReport.

    A path that is an audit folder (see sync.audit_published) also has its tally replayed.
    """
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
        found, report.skipped = scan(paths)
        for path in found:
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
                part, first_prev = _verify_records(ub, cert, election, pool, 4 * workers, progress)
            except UrneError as exc:
                result.error, result.error_class = str(exc), type(exc).__name__
                continue
            except _Failure as exc:
                result.error, result.error_class = str(exc), exc.cls
                continue
            result.ok = True
            chain = chains.setdefault(
                (cert.device, cert.epoch), ChainState(cert.device, cert.epoch)
            )
            chain.merge(m["first"], part, first_prev, str(path))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    report.chains = [chains[k].finish(election.id) for k in sorted(chains)]
    # An audit folder (urne sync publish --out) also has its tally recomputed and compared.
    for folder in paths:
        if is_published(folder):
            report.published.append(replay(folder, election, report, revocations=revocations))
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
