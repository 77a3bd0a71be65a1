"""Importing many files: worker processes verify and write, refusals reported per file."""

import pytest
from fixtures_central import NOW

from sync.bundle import verify_bundle
from sync.bundle_rows import verify_bundle_rows
from sync.central import compact_rows
from sync.errors import BundleError
from sync.importer import bundle_files, import_paths

T = "2026-05-16T"


def test_parallel_import_of_folders_reports_each_file(central_kit, tmp_path):
    kit = central_kit()
    for d in ("k1", "k2"):
        recs = kit.chain(
            d,
            [("open", f"{T}09:00")]
            + [("ballot", f"{d}{i}", "kiosk", f"{T}09:15") for i in range(5)],
        )
        kit.bundle(d, recs, 1, 3)
        kit.bundle(d, recs, 2, 6)
    bad = kit.root / "bundles" / "zz-bad.urne"
    bad.write_bytes(b"PK not a bundle")
    with kit.open() as c:
        outcomes = import_paths(c, [kit.root / "bundles"], now=NOW, workers=2)
        stored = c.store.conn.execute("SELECT count(*) FROM records").fetchone()[0]
    assert [o.path.name for o in outcomes] == sorted(
        p.name for p in (kit.root / "bundles").iterdir()
    )
    assert isinstance(outcomes[-1].error, BundleError)
    # Workers write files as they finish verifying them: which of two overlapping files reports
    # a record as added depends on that order; the total and the stored records do not.
    assert [o.result.added + o.result.present for o in outcomes[:-1]] == [3, 5, 3, 5]
    assert sum(o.result.added for o in outcomes[:-1]) == stored == 12


def test_missing_paths_are_refused(tmp_path):
    with pytest.raises(BundleError, match="no such file"):
        bundle_files([tmp_path / "nowhere"])


def test_import_rows_equal_the_full_verifiers_rows(central_kit):
    """verify_bundle_rows (hot path, no dicts) gives exactly compact_rows of verify_bundle."""
    kit = central_kit()
    recs = kit.chain(
        "k1",
        [("open", f"{T}09:00")]
        + [("ballot", f"v{i}", "kiosk" if i % 3 else "paper", f"{T}09:15") for i in range(9)]
        + [("void", f"{T}09:30"), ("close", f"{T}09:45")],
    )
    whole, tail = kit.bundle("k1", recs), kit.bundle("k1", recs, 4, 12)
    for path in (whole, tail):
        full = verify_bundle(path, kit.election)
        bundle, rows = verify_bundle_rows(path, kit.election)
        assert rows == compact_rows(full)
        assert (bundle.hash, bundle.head, bundle.first, bundle.count) == (
            full.hash, full.head, full.first, full.count,
        )  # fmt: skip
    assert {r[5] for r in rows} == {"ballot", "void", "session_close"}


def test_reimporting_the_same_files_counts_their_records_as_already_present(central_kit):
    kit = central_kit()
    recs = kit.chain(
        "k1",
        [("open", f"{T}09:00")] + [("ballot", f"v{i}", "kiosk", f"{T}09:15") for i in range(4)],
    )
    kit.bundle("k1", recs, 1, 3)
    kit.bundle("k1", recs, 4, 5)
    with kit.open() as c:
        import_paths(c, [kit.root / "bundles"], now=NOW, workers=1)
        again = import_paths(c, [kit.root / "bundles"], now=NOW, workers=1)
    assert [(o.result.status, o.result.added, o.result.present) for o in again] == [
        ("already", 0, 3),
        ("already", 0, 2),
    ]


def test_a_fork_in_a_parallel_import_refuses_one_file_and_flags_the_device(central_kit):
    from sync.errors import ConflictError

    kit = central_kit()
    ballots = [("open", f"{T}09:00")] + [
        ("ballot", f"v{i}", "kiosk", f"{T}09:15") for i in range(3)
    ]
    kit.bundle("k1", kit.chain("k1", ballots))
    kit.bundle("k1", kit.chain("k1", ballots, seed=99))  # same device and seqs, other history
    kit.bundle("k2", kit.chain("k2", ballots))
    with kit.open() as c:
        outcomes = import_paths(c, [kit.root / "bundles"], now=NOW, workers=2)
        states = {d["device"]: d["state"] for d in c.store.devices()}
        stored = c.store.conn.execute("SELECT count(*) FROM records").fetchone()[0]
    errors = [o.error for o in outcomes if o.error is not None]
    # Whichever of the two k1 files is written second is the fork; k2 is not touched by it.
    assert len(errors) == 1 and isinstance(errors[0], ConflictError)
    assert states == {"k1": "fork", "k2": "complete"} and stored == 8
