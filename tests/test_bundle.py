"""Bundles: atomic writing, the exact zip layout, hardened reading, ordered verification."""

import os
import zipfile

import pytest
from fixtures_records import NOW, chain_records, golden_bundle, make_chain

from sync import bundlezip, records
from sync.bundle import (
    bundle_name,
    read_unverified_bundle,
    verify_bundle,
    write_bundle,
)
from sync.errors import BundleError, ChainError, RecordError


def test_golden_bundle_layout(golden, enrolled):
    zf = zipfile.ZipFile(golden)
    assert zf.namelist() == ["certificate.json", "records.jsonl", "manifest.json"]
    assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
    assert zf.testzip() is None
    assert zf.read("certificate.json") == enrolled.certificate_bytes
    lines = zf.read("records.jsonl").split(b"\n")
    assert lines[-1] == b"" and len(lines) == 7


def test_verify_returns_the_records(golden, enrolled):
    vb = verify_bundle(golden, enrolled.election)
    assert (vb.device, vb.epoch, vb.first, vb.last, vb.count, vb.cumulative) == (
        "kiosk-01",
        1,
        1,
        6,
        6,
        True,
    )
    assert [r.seq for r in vb.records] == [1, 2, 3, 4, 5, 6]
    assert vb.head == vb.records[-1].hash == records.record_hash(vb.records[-1].body_bytes)
    assert vb.records[1].body["type"] == "ballot"
    assert len(vb.hash) == 64


def test_writing_is_deterministic_and_leaves_no_temporary(enrolled, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    a = golden_bundle(enrolled, out / "a.zip")
    b = golden_bundle(enrolled, out / "b.zip")
    assert a.read_bytes() == b.read_bytes()
    assert sorted(os.listdir(out)) == ["a.zip", "b.zip"]


def test_incremental_bundles_continue_the_chain(enrolled, tmp_path):
    chain = make_chain(enrolled, 10)
    common = dict(
        certificate_bytes=enrolled.certificate_bytes, device_key=enrolled.device_key, now=NOW
    )
    write_bundle(tmp_path / "one.zip", records=chain[:4], cumulative=True, **common)
    path = write_bundle(tmp_path / bundle_name("kiosk-01", 1, 5, 10), records=chain[4:], **common)
    assert path.name == "kiosk-01-e1-0000005-0000010.urne"
    vb = verify_bundle(path, enrolled.election)
    assert (vb.first, vb.last, vb.cumulative) == (5, 10, False)


def test_write_refuses_broken_input(enrolled, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    chain = make_chain(enrolled, 4)
    common = dict(
        certificate_bytes=enrolled.certificate_bytes, device_key=enrolled.device_key, now=NOW
    )
    with pytest.raises(ChainError, match="seq skipped ahead"):
        write_bundle(tmp_path / "x.zip", records=[chain[0], chain[2]], **common)
    with pytest.raises(BundleError, match="nothing to export"):
        write_bundle(tmp_path / "x.zip", records=[], **common)
    with pytest.raises(BundleError, match="cumulative bundle starts at seq 1"):
        write_bundle(tmp_path / "x.zip", records=chain[1:], cumulative=True, **common)
    other = make_chain(enrolled, 1)
    body = records.validate_body(__import__("json").loads(other[0][0]))
    bad = records.sign_record(enrolled.device_key, dict(body, device="kiosk-02"))
    with pytest.raises(RecordError, match="record device does not match the certificate"):
        write_bundle(tmp_path / "x.zip", records=[bad], **common)
    assert os.listdir(tmp_path) == []


def test_write_streams_a_generator(enrolled, tmp_path):
    path = write_bundle(
        tmp_path / "g.zip",
        certificate_bytes=enrolled.certificate_bytes,
        records=chain_records(enrolled, 50, close=True),
        device_key=enrolled.device_key,
        now=NOW,
    )
    vb = verify_bundle(path, enrolled.election, keep_records=False)
    assert vb.count == 50 and vb.records == []


def test_unverified_reading_checks_structure_only(golden):
    ub = read_unverified_bundle(golden)
    assert ub.manifest["count"] == 6
    assert [n for n, _ in ub.lines()] == [1, 2, 3, 4, 5, 6]


def test_missing_file(tmp_path):
    with pytest.raises(BundleError, match="cannot read bundle"):
        read_unverified_bundle(tmp_path / "nope.zip")


def test_layout_limits(tmp_path):
    data = bundlezip.pack([(f"m{i}", b"") for i in range(bundlezip.MAX_MEMBERS + 1)])
    (tmp_path / "x.zip").write_bytes(data)
    with pytest.raises(BundleError, match="too many members"):
        read_unverified_bundle(tmp_path / "x.zip")
    (tmp_path / "y.zip").write_bytes(b"PK")
    with pytest.raises(BundleError, match="truncated archive"):
        read_unverified_bundle(tmp_path / "y.zip")


def test_member_size_limit(golden, tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sync.bundle").bundle.LIMITS, "records.jsonl", 100)
    with pytest.raises(BundleError, match="member too large"):
        read_unverified_bundle(golden)
