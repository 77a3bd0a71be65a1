"""Importing many files: verification in worker processes, refusals reported per file."""

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
    assert [o.result.added for o in outcomes[:-1]] == [3, 3, 3, 3]
    assert stored == 12


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
