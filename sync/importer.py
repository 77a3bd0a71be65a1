"""Importing many bundle files: one worker per core verifies a file, then writes it itself."""

import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing.util import Finalize
from pathlib import Path

from .central import CentralStore, import_bundle
from .election import read_package
from .enroll import read_revocations
from .errors import BundleError, UrneError

SUFFIX = ".urne"
CACHE = -32768  # PRAGMA cache_size: 32 MiB
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


def _init(package, revocations, home, now):
    election = read_package(package)
    # Each worker writes what it verified: no third process on the same cores to hand rows to,
    # no pickling of them. BEGIN IMMEDIATE queues the writers (CentralStore.write).
    store = CentralStore(home)
    store.conn.execute(f"PRAGMA cache_size = {CACHE}")
    Finalize(store, store.close, exitpriority=10)
    _worker.update(
        store=store, election=election, now=now,
        revocations=read_revocations(revocations, election) if revocations else None,
    )  # fmt: skip


def _import(store, election, path, *, revocations, now):
    """Verify and import one file: (ImportResult, None) or (None, the error that refused it)."""
    try:
        result = import_bundle(store, election, path, revocations=revocations, now=now)
    except UrneError as exc:
        return None, exc
    return _with_present(store, result), None


def _in_worker(path):
    w = _worker
    return _import(w["store"], w["election"], path, revocations=w["revocations"], now=w["now"])


def import_paths(central, paths, *, now, workers=None, progress=None):
    """Verify and import every bundle of paths; a list of Outcome (refusals do not stop it)."""
    files = bundle_files(paths)
    workers = workers or os.cpu_count() or 1
    outcomes = []

    def done(path, result, error):
        outcomes.append(Outcome(path, result, error))
        if progress:
            progress(path)

    def finish_oldest(pending):
        path, future = pending.popleft()
        done(path, *future.result())

    if workers > 1 and len(files) > 1:
        revocations = central.home / "revocations.urne"
        revocations = revocations.read_bytes() if revocations.exists() else None
        init = (central.election.bytes, revocations, central.home, now)
        with ProcessPoolExecutor(workers, initializer=_init, initargs=init) as pool:
            # A bounded window of files in flight keeps the parent's memory flat however many.
            pending = deque()
            for path in files:
                pending.append((path, pool.submit(_in_worker, path)))
                if len(pending) >= 2 * workers:
                    finish_oldest(pending)
            while pending:
                finish_oldest(pending)
    else:
        # A bulk import inserts into the random-keyed ballot index: a 32 MiB page cache (default
        # 2 MiB) keeps its pages in memory. The workers set their own (_init).
        central.store.conn.execute(f"PRAGMA cache_size = {CACHE}")
        for path in files:
            args = (central.store, central.election, path)
            done(path, *_import(*args, revocations=central.revocations, now=now))
    return outcomes
