"""The audit verifier: merging overlapping bundles, gaps, forks, links, parallel workers."""

import pytest
from fixtures_records import NOW, make_chain, make_enrolled

from sync import audit as audit_module
from sync import records
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
    assert c.head == records.record_hash(chain[-1][0])
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
    (tmp_path / "x" / "election.urne").write_bytes(enrolled.package)
    assert len(bundle_paths([tmp_path / "x"])) == 2
    report = audit(enrolled.election, [tmp_path / "x"], workers=2)
    assert report.ok
    assert report.skipped == [tmp_path / "x" / "election.urne"]
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


def test_bad_record_found_by_a_worker(enrolled, tmp_path, monkeypatch):
    monkeypatch.setattr(audit_module, "CHUNK_BYTES", 8000)  # several chunks in flight
    chain = make_chain(enrolled, 200)
    body, sig = chain[150]
    chain[150] = (body, sig[:-1] + bytes([sig[-1] ^ 1]))
    path = _write(enrolled, tmp_path / "a.zip", chain, cumulative=True)
    report = audit(enrolled.election, [path], workers=2)
    assert report.bundles[0].error_class == "SignatureError"
    assert "records.jsonl:151" in report.bundles[0].error


def test_nothing_to_verify_is_not_ok(enrolled, tmp_path):
    assert not audit(enrolled.election, [tmp_path / "kiosk" / "keys"], workers=1).ok


def _custom_chain(ctx, specs):
    """Sign a chain of (kind, fields) records in order, linked from genesis."""
    prev, out = records.genesis(ctx.election.id, ctx.device, ctx.epoch), []
    common = {"election_id": ctx.election.id, "device": ctx.device, "epoch": ctx.epoch}
    for seq, (kind, fields) in enumerate(specs, start=1):
        body = records.new_record(kind, **common, seq=seq, prev=prev, **fields)
        out.append(records.sign_record(ctx.device_key, body))
        prev = records.record_hash(out[-1][0])
    return out


def _ballot(bid):
    return (
        "ballot",
        {"ballot": bid * 16, "selections": {"dept": [], "canton-1": {}}, "channel": "kiosk", "lang": "fr",
         "time": "2026-05-16T10:00", "clock": "agent", "voter": "5a" * 80},
    )  # fmt: skip


OPEN = ("session_open", {"time": "2026-05-16T09:00", "clock": "agent"})


def _close(ballots, voids, total):
    return (
        "session_close",
        {
            "time": "2026-05-16T18:00",
            "clock": "agent",
            "ballots": ballots,
            "voids": voids,
            "total": total,
        },
    )


def _void(bid):
    return ("void", {"ballot": bid * 16, "reason": "mistake", "time": "2026-05-16T10:00"})


@pytest.mark.parametrize(
    "specs, error",
    [
        (
            [
                OPEN,
                _ballot("aa"),
                _void("aa"),
                _ballot("bb"),
                _close(2, 1, 2),
                OPEN,
                _ballot("cc"),
                _close(1, 0, 3),
            ],
            None,
        ),
        (
            [OPEN, _ballot("aa"), _void("bb"), _close(1, 1, 1)],
            "record 3: void names no earlier ballot",
        ),
        (
            [OPEN, _ballot("aa"), _void("aa"), _void("aa"), _close(1, 2, 1)],
            "record 4: ballot aa.* voided twice",
        ),
        (
            [OPEN, _ballot("aa"), _ballot("aa"), _close(2, 0, 2)],
            "record 3: ballot id aa.* used twice",
        ),
        (
            [OPEN, _ballot("aa"), _close(1, 0, 5)],
            r"record 3: session_close counts .*expected \(1, 0, 1\), got \(1, 0, 5\)",
        ),
        ([OPEN, OPEN, _close(0, 0, 0)], "record 2: session opened while one is open"),
        ([OPEN, _close(0, 0, 0), _close(0, 0, 0)], "record 3: session closed while none is open"),
    ],
)
def test_sessions_and_voids(enrolled, tmp_path, specs, error):
    path = _write(enrolled, tmp_path / "a.urne", _custom_chain(enrolled, specs), cumulative=True)
    report = audit(enrolled.election, [path], workers=1)
    assert report.bundles[0].ok
    if error is None:
        assert report.ok, report.to_dict()
        assert (report.chains[0].ballots, report.chains[0].voids, report.chains[0].sessions) == (
            3,
            1,
            2,
        )
    else:
        assert not report.ok
        assert len(report.chains[0].errors) == 1
        assert __import__("re").search(error, report.chains[0].errors[0])
