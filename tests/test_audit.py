"""The audit verifier: merging overlapping bundles, gaps, forks, links, parallel workers."""

import pytest
from fixtures_records import NOW, make_chain, make_enrolled

from sync.audit import audit, bundle_paths, expected_records
from sync.bundle import write_bundle


def _write(ctx, path, chain, cumulative=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_bundle(
        path, certificate_bytes=ctx.certificate_bytes, records=chain, device_key=ctx.device_key,
        now=NOW, cumulative=cumulative,
    )  # fmt: skip


@pytest.fixture
def chain(enrolled):
    return make_chain(enrolled, 12, close=True)


@pytest.mark.parametrize("workers", [1, 2])
def test_overlapping_bundles_merge(enrolled, chain, tmp_path, workers):
    out = tmp_path / "exports"
    _write(enrolled, out / "a.zip", chain[:5], cumulative=True)
    _write(enrolled, out / "b.zip", chain[3:9])
    _write(enrolled, out / "c.zip", chain, cumulative=True)
    seen = []
    report = audit(enrolled.election, [out], workers=workers, progress=seen.append)
    assert report.ok, report.to_dict()
    (c,) = report.chains
    assert (c.device, c.epoch, c.records, c.ballots, c.sessions, c.last) == (
        "kiosk-01",
        1,
        12,
        10,
        1,
        12,
    )
    assert c.ranges == [[1, 12]] and c.gaps == [] and c.forks == []
    assert sum(seen) == 5 + 6 + 12 == expected_records([out])


def test_gap_is_reported(enrolled, chain, tmp_path):
    a = _write(enrolled, tmp_path / "a.zip", chain[:3], cumulative=True)
    b = _write(enrolled, tmp_path / "b.zip", chain[5:8])
    report = audit(enrolled.election, [a, b], workers=1)
    assert not report.ok
    assert all(x.ok for x in report.bundles)
    assert report.chains[0].gaps == [[4, 5]]
    assert report.chains[0].ranges == [[1, 3], [6, 8]]


def test_fork_is_reported(enrolled, tmp_path):
    first = make_chain(enrolled, 4, seed=3)
    clone = make_chain(enrolled, 4, seed=4)  # the same device key signing another history
    a = _write(enrolled, tmp_path / "a.zip", first, cumulative=True)
    b = _write(enrolled, tmp_path / "b.zip", clone, cumulative=True)
    report = audit(enrolled.election, [a, b], workers=1)
    assert not report.ok
    assert [f["seq"] for f in report.chains[0].forks] == [2, 3, 4]


def test_broken_link_across_bundles(enrolled, tmp_path):
    first = make_chain(enrolled, 6, seed=3)
    other = make_chain(enrolled, 6, seed=4)
    a = _write(enrolled, tmp_path / "a.zip", first[:3], cumulative=True)
    b = _write(enrolled, tmp_path / "b.zip", other[3:])
    report = audit(enrolled.election, [a, b], workers=1)
    assert not report.ok
    assert report.chains[0].errors == [f"{b}: record 4 does not link to record 3"]


def test_devices_and_epochs_are_separate_chains(enrolled, chain, tmp_path):
    _write(enrolled, tmp_path / "x" / "a.zip", chain, cumulative=True)
    other = make_enrolled(tmp_path / "k2", device="kiosk-02", epoch=2)
    _write(other, tmp_path / "x" / "sub" / "b.zip", make_chain(other, 3), cumulative=True)
    (tmp_path / "x" / "notes.txt").write_text("not a bundle")
    assert len(bundle_paths([tmp_path / "x"])) == 2
    report = audit(enrolled.election, [tmp_path / "x"], workers=2)
    assert report.ok
    assert [(c.device, c.epoch, c.records) for c in report.chains] == [
        ("kiosk-01", 1, 12),
        ("kiosk-02", 2, 3),
    ]


def test_one_bad_bundle_fails_the_audit_but_not_the_others(enrolled, chain, tmp_path):
    good = _write(enrolled, tmp_path / "a.zip", chain, cumulative=True)
    bad = tmp_path / "b.zip"
    data = bytearray(good.read_bytes())
    data[400] ^= 1
    bad.write_bytes(bytes(data))
    report = audit(enrolled.election, [good, bad], workers=2)
    assert not report.ok
    assert [b.ok for b in report.bundles] == [True, False]
    assert report.bundles[1].error_class == "BundleError"
    assert report.chains[0].ok
    d = report.to_dict()
    assert d["ok"] is False and d["chains"][0]["ok"] is True


def test_bad_record_found_by_a_worker(enrolled, tmp_path):
    chain = make_chain(enrolled, 900)  # several chunks
    body, sig = chain[700]
    chain[700] = (body, sig[:-1] + bytes([sig[-1] ^ 1]))
    path = _write(enrolled, tmp_path / "a.zip", chain, cumulative=True)
    report = audit(enrolled.election, [path], workers=2)
    assert report.bundles[0].error_class == "SignatureError"
    assert "records.jsonl:701" in report.bundles[0].error


def test_nothing_to_verify_is_not_ok(enrolled, tmp_path):
    assert not audit(enrolled.election, [tmp_path / "kiosk" / "keys"], workers=1).ok
