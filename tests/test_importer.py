"""Importing many files: verification in worker processes, refusals reported per file."""

import pytest
from fixtures_central import NOW

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
