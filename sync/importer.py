"""Importing many bundle files: verification spread over all cores, writes in this process."""

import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from .bundle_rows import verify_bundle_rows
from .central import import_bundle
from .election import read_package
from .enroll import read_revocations
from .errors import BundleError, UrneError

SUFFIX = ".urne"
_worker = {}


@dataclass(frozen=True)
class Outcome:
    """One file's import: its ImportResult, or the error that refused it."""

    path: Path
    result: object = None
    error: UrneError | None = None


def bundle_files(paths):
    """The bundle files named by paths (files, or folders searched for *.urne), sorted, unique."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob(f"*{SUFFIX}") if q.is_file()))
        elif p.is_file():
            out.append(p)
        else:
            raise BundleError("no such file or folder", where=str(p))
    seen, unique = set(), []
    for p in out:
        if p.resolve() not in seen:
            seen.add(p.resolve())
            unique.append(p)
    return unique


def _with_present(store, result):
    # A file imported before reports 0 added, 0 present: its records are all present, say so.
    if result.status != "already" or result.present:
        return result
    row = store.conn.execute("SELECT count FROM bundles WHERE hash = ?", (result.hash,)).fetchone()
    return replace(result, present=row[0] if row else result.last - result.first + 1)


def _init(package, revocations):
    election = read_package(package)
    _worker["election"] = election
    _worker["revocations"] = read_revocations(revocations, election) if revocations else None


def _verify(path):
    # Runs in a worker: ship back plain row tuples, not parsed bodies (pickling dominates else).
    try:
        bundle, rows = verify_bundle_rows(path, _worker["election"], _worker["revocations"])
    except UrneError as exc:
        return None, None, exc
    return bundle, rows, None


def import_paths(central, paths, *, now, workers=None, progress=None):
    """Verify and import every bundle of paths; a list of Outcome (refusals do not stop it)."""
    files = bundle_files(paths)
    workers = workers or os.cpu_count() or 1
    revocations = central.home / "revocations.urne"
    revocations = revocations.read_bytes() if revocations.exists() else None
    outcomes = []
    # A bulk import inserts into the random-keyed ballot index: a 32 MiB page cache (default
    # 2 MiB) keeps its pages in memory, about a tenth of the writing process's CPU at 100,000.
    central.store.conn.execute("PRAGMA cache_size = -32768")

    def write(path, verified, rows, error):
        if error is None:
            try:
                result = import_bundle(
                    central.store, central.election, path, revocations=central.revocations,
                    now=now, verified=verified, rows=rows,
                )  # fmt: skip
                outcomes.append(Outcome(path, _with_present(central.store, result)))
            except UrneError as exc:
                outcomes.append(Outcome(path, error=exc))
        else:
            outcomes.append(Outcome(path, error=error))
        if progress:
            progress(path)

    if workers > 1 and len(files) > 1:
        init = (central.election.bytes, revocations)
        with ProcessPoolExecutor(workers, initializer=_init, initargs=init) as pool:
            # A bounded window of bundles in flight keeps memory flat however many files come.
            pending = deque()
            for path in files:
                pending.append((path, pool.submit(_verify, path)))
                if len(pending) >= 2 * workers:
                    done, future = pending.popleft()
                    write(done, *future.result())
            while pending:
                done, future = pending.popleft()
                write(done, *future.result())
    else:
        _init(central.election.bytes, revocations)
        for path in files:
            write(path, *_verify(path))
    return outcomes
