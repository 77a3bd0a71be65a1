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

CHUNK_BYTES = 1 << 20  # about 1,500 ballots: a task big enough to hide the pickling
WINDOW_PER_WORKER = 6  # chunks in flight per worker: workers never wait for the main process
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
                m, message, _ = got
                this, this_prev = int(m["seq"]), m["prev"].decode()
                if seq is None:
                    first_seq, first_prev = this, this_prev
                elif this != seq + 1 or this_prev != prev:
                    link = {"seq": this, "prev": this_prev}
                    check_link(link, expected_seq=seq + 1, expected_prev=prev, where=_at(number))
                digest = sha256(message).digest()
                seq, prev = this, digest.hex()
                hashes += digest
                types.append(ballot_code)
                ids += bytes.fromhex(m["ballot"].decode())
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


class _Job:
    """One bundle on its way through the pipeline: its report row and what its chunks gave."""

    def __init__(self, path):
        self.path = path
        self.result = BundleResult(str(path), ok=False)
        self.ub = self.cert = None
        self.failed = False
        self.expected_seq = self.expected_prev = self.head = self.first_prev = None
        self.hashes, self.types, self.ids, self.closes = bytearray(), bytearray(), bytearray(), []

    def fail(self, cls, message):
        """Record the first error of this bundle (later ones are consequences)."""
        if not self.failed:
            self.failed = True
            self.result.error, self.result.error_class = message, cls


def _events(found, election, revocations):
    """("chunk", job, task), then ("end", job, None) or ("fail", job, error) per bundle, in order.

    The header checks of the next bundle run while workers still check this one's last chunks.
    """
    for path in found:
        job = _Job(path)
        yield "start", job, None
        try:
            job.ub = read_unverified_bundle(path, file_hash=False)  # nothing keyed by it here
            job.cert = cert = verify_header(job.ub, election, revocations)
            m = job.ub.manifest
            r = job.result
            r.device, r.epoch, r.first, r.last = cert.device, cert.epoch, m["first"], m["last"]
            job.expected_seq = m["first"]
            if m["first"] == 1:
                job.expected_prev = genesis(election.id, cert.device, cert.epoch)
            for first, block in job.ub.blocks(CHUNK_BYTES):
                if job.failed:
                    break  # a worker found an error: the rest of this bundle is not needed
                yield "chunk", job, (cert.key, cert.device, cert.epoch, first, block)
        except UrneError as exc:
            yield "fail", job, exc
            continue
        yield "end", job, None


def _settle_chunk(job, outcome):
    ok, err = outcome
    if job.failed:
        return
    if err:
        job.fail(err[1], err[2])
        return
    seq, prev, last, last_hash, part = ok
    try:
        check_link(
            {"seq": seq, "prev": prev},
            expected_seq=job.expected_seq,
            expected_prev=job.expected_prev,
            where=f"{RECORDS}: chunk starting at seq {seq}",
        )
    except UrneError as exc:
        job.fail(type(exc).__name__, str(exc))
        return
    if job.first_prev is None:
        job.first_prev = prev
    job.hashes += part[0]
    job.types += part[1]
    job.ids += part[2]
    job.closes += part[3]
    job.expected_seq, job.expected_prev, job.head = last + 1, last_hash, last_hash


def _settle_end(job, chains):
    if job.failed:
        return
    m = job.ub.manifest
    try:
        check_tail(m, len(job.types), job.expected_seq - 1, job.head)
    except UrneError as exc:
        job.fail(type(exc).__name__, str(exc))
        return
    job.result.ok = True
    cert = job.cert
    chain = chains.setdefault((cert.device, cert.epoch), ChainState(cert.device, cert.epoch))
    part = (job.hashes, job.types, job.ids, job.closes)
    chain.merge(m["first"], part, job.first_prev, str(job.path))


def _pipeline(found, election, revocations, pool, window, progress, report):
    """Verify every bundle of `found` with chunks in flight across bundles; return the chains."""
    chains, pending = {}, deque()

    def settle():
        kind, job, payload = pending.popleft()
        if kind == "chunk":
            outcome = payload.get() if pool is not None else payload
            _settle_chunk(job, outcome)
            if progress and outcome[0]:
                progress(len(outcome[0][4][1]))  # one type code per record checked
        elif kind == "fail":
            job.fail(type(payload).__name__, str(payload))
        elif kind == "end":
            _settle_end(job, chains)

    for kind, job, payload in _events(found, election, revocations):
        if kind == "start":
            report.bundles.append(job.result)
            continue
        if kind == "chunk":
            if pool is None:
                payload = _check_chunk(payload)
            else:
                payload = pool.apply_async(_check_chunk, (payload,))
        pending.append((kind, job, payload))
        while len(pending) >= window:
            settle()
    while pending:
        settle()
    return chains


def audit(election, paths, *, revocations=None, workers=None, progress=None):
    """Verify every bundle under `paths` and merge their chains; return an AuditReport.

    A path that is an audit folder (see sync.audit_published) also has its tally replayed.
    """
    report = AuditReport(election.id)
    workers = workers or os.cpu_count() or 1
    pool = None
    if workers > 1:
        ctx = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        pool = ctx.Pool(workers, initializer=_init_worker, initargs=(election.bytes,))
    else:
        _init_worker(election.bytes)
    try:
        found, report.skipped = scan(paths)
        window = WINDOW_PER_WORKER * workers
        chains = _pipeline(found, election, revocations, pool, window, progress, report)
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
