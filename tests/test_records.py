"""Records: field validation, hashing, signing, chain links, line form."""

from datetime import datetime

import pytest
from fixtures_records import SELECTIONS, make_chain
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import crypto, records
from sync.canonical import canonical_bytes
from sync.errors import CanonicalError, ChainError, RecordError, SelectionError, SignatureError

ELECTION = "ab" * 32


def _ballot(**changes):
    fields = dict(
        election_id=ELECTION, device="kiosk-01", epoch=1, seq=2, prev="cd" * 32, ballot="ef" * 16,
        selections={"dept": []}, channel="kiosk", lang="fr", time="2026-05-16T10:15",
        clock="agent", voter="01" * 80,
    )  # fmt: skip
    fields.update(changes)
    return records.new_record("ballot", **fields)


def test_coarse_time_rounds_down_to_the_quarter_hour():
    assert records.coarse_time(datetime(2026, 5, 16, 10, 14, 59)) == "2026-05-16T10:00"
    assert records.coarse_time(datetime(2026, 5, 16, 10, 15)) == "2026-05-16T10:15"
    assert records.coarse_time(datetime(2026, 5, 16, 23, 59)) == "2026-05-16T23:45"
    assert records.minute_time(datetime(2026, 5, 16, 9, 7, 30)) == "2026-05-16T09:07"


def test_genesis_binds_election_device_and_epoch():
    g = records.genesis(ELECTION, "kiosk-01", 1)
    assert g == crypto.digest(
        "urne/1/genesis", b'{"device":"kiosk-01","election":"' + ELECTION.encode() + b'","epoch":1}'
    )
    assert g != records.genesis(ELECTION, "kiosk-01", 2)
    assert g != records.genesis(ELECTION, "kiosk-02", 1)


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"time": "2026-05-16T10:07"},
            "time: bad time: expected YYYY-MM-DDTHH:MM on a quarter hour",
        ),
        ({"channel": "web"}, "bad channel"),
        ({"clock": "ntp"}, "bad clock"),
        ({"ballot": "EF" * 16}, "bad ballot"),
        ({"voter": "01" * 79}, "bad voter"),
        ({"lang": "français"}, "bad lang"),
        ({"device": "Kiosk 1"}, "bad device"),
        ({"seq": 0}, "bad seq: expected integer >= 1, got 0"),
        ({"epoch": True}, "bad epoch"),
        ({"selections": []}, "bad selections"),
        ({"extra": 1}, "wrong fields for a ballot record"),
    ],
)
def test_bad_fields_refused(changes, message):
    with pytest.raises(RecordError, match=message):
        _ballot(**changes)


def test_other_record_types():
    common = dict(election_id=ELECTION, device="kiosk-01", epoch=1, prev="00" * 32)
    records.new_record("session_open", **common, seq=1, time="2026-05-16T09:07", clock="agent")
    records.new_record(
        "session_close",
        **common,
        seq=9,
        time="2026-05-16T18:03",
        clock="system",
        ballots=7,
        voids=1,
        total=7,
    )
    records.new_record(
        "void", **common, seq=5, ballot="ab" * 16, reason="changed mind", time="2026-05-16T10:15"
    )
    with pytest.raises(RecordError, match="bad ballots"):
        records.new_record(
            "session_close",
            **common,
            seq=9,
            time="2026-05-16T18:03",
            clock="system",
            ballots=-1,
            voids=0,
            total=0,
        )
    with pytest.raises(RecordError, match="bad reason"):
        records.new_record(
            "void", **common, seq=5, ballot="ab" * 16, reason="", time="2026-05-16T10:15"
        )
    with pytest.raises(RecordError, match="unknown record type"):
        records.new_record("tally", **common, seq=5)


def test_sign_and_check_a_chain(enrolled):
    chain = make_chain(enrolled, 4)
    prev = records.genesis(enrolled.election.id, "kiosk-01", 1)
    for seq, (body_bytes, sig) in enumerate(chain, start=1):
        body = records.check_record(
            body_bytes, sig, certificate=enrolled.certificate, election=enrolled.election,
            expected_seq=seq, expected_prev=prev,
        )  # fmt: skip
        assert body["seq"] == seq
        prev = records.record_hash(body_bytes)


def _check(enrolled, body_bytes, sig, seq=2, prev=None):
    return records.check_record(
        body_bytes, sig, certificate=enrolled.certificate, election=enrolled.election,
        expected_seq=seq, expected_prev=prev,
    )  # fmt: skip


def test_check_record_refusals(enrolled):
    chain = make_chain(enrolled, 3)
    body_bytes, sig = chain[1]
    with pytest.raises(SignatureError, match="bad urne/1/record signature"):
        _check(enrolled, body_bytes, sig[:-1] + bytes([sig[-1] ^ 1]))
    with pytest.raises(SignatureError, match="bad urne/1/record signature"):
        _check(
            enrolled, body_bytes, crypto.sign(enrolled.device_key, "urne/1/manifest", body_bytes)
        )
    with pytest.raises(CanonicalError, match="not in canonical form"):
        _check(enrolled, body_bytes.replace(b",", b", ", 1), sig)
    with pytest.raises(ChainError, match=r"seq went back.*expected 3, got 2"):
        _check(enrolled, body_bytes, sig, seq=3)
    with pytest.raises(ChainError, match="prev does not link"):
        _check(enrolled, body_bytes, sig, prev="00" * 32)
    body = records.validate_body(__import__("json").loads(body_bytes))
    bad = dict(body, selections={"dept": ["d9"], "canton-1": {}})
    with pytest.raises(SelectionError, match="invalid selections"):
        _check(enrolled, *records.sign_record(enrolled.device_key, bad))
    other = dict(body, epoch=2)
    with pytest.raises(
        RecordError, match="record epoch does not match its certificate: expected 1, got 2"
    ):
        _check(enrolled, *records.sign_record(enrolled.device_key, other))


def test_line_round_trip_and_refusals():
    body = canonical_bytes({"a": 1})
    line = records.encode_line(body, b"\x11" * 64)
    assert line == b'{"body":{"a":1},"sig":"' + b"11" * 64 + b'"}\n'
    assert records.decode_line(line[:-1]) == (body, b"\x11" * 64)
    with pytest.raises(RecordError, match="bad line"):
        records.decode_line(b'{"body":{"a":1}}')
    with pytest.raises(SignatureError, match="bad signature encoding"):
        records.decode_line(b'{"body":{"a":1},"sig":"' + b"AB" * 64 + b'"}')
    with pytest.raises(CanonicalError):
        records.decode_line(b'{"sig":"' + b"11" * 64 + b'", "body":{"a":1}}')


def test_selections_fixture_are_valid(enrolled):
    for s in SELECTIONS:
        enrolled.election.validate_selections(s)


def _signed_ballot_bytes(enrolled, body_bytes):
    return body_bytes, crypto.sign(enrolled.device_key, "urne/1/record", body_bytes)


def test_fast_path_refuses_non_canonical_selections(enrolled):
    body_bytes, _ = make_chain(enrolled, 2)[1]
    checker = records.RecordChecker(
        key=enrolled.certificate.key, election=enrolled.election, device="kiosk-01", epoch=1
    )
    assert records.BALLOT_BYTES.match(body_bytes)
    start = body_bytes.index(b'"selections":') + len(b'"selections":')
    end = body_bytes.index(b',"seq":')
    for bad in (
        b'{"dept":["d2"],"canton-1":{"c2":1}}',
        b'{"canton-1":{"c2":1}, "dept":["d2"]}',
        b'{"canton-1":{"c2":1.0},"dept":["d2"]}',
    ):
        mutated = body_bytes[:start] + bad + body_bytes[end:]
        with pytest.raises(CanonicalError):
            checker.check(*_signed_ballot_bytes(enrolled, mutated))


def test_invalid_selections_are_never_cached(enrolled):
    body_bytes, _ = make_chain(enrolled, 2)[1]
    checker = records.RecordChecker(
        key=enrolled.certificate.key, election=enrolled.election, device="kiosk-01", epoch=1
    )
    start = body_bytes.index(b'"selections":') + len(b'"selections":')
    end = body_bytes.index(b',"seq":')
    bad = body_bytes[:start] + b'{"canton-1":{},"dept":["d1","d2","d3"]}' + body_bytes[end:]
    for _ in range(2):
        with pytest.raises(SelectionError):
            checker.check(*_signed_ballot_bytes(enrolled, bad))
    good = checker.check(*make_chain(enrolled, 2)[1])
    assert good == records.validate_body(__import__("json").loads(body_bytes))


def test_light_check_agrees_with_the_full_check(enrolled):
    chain = make_chain(enrolled, 8)
    checker = records.RecordChecker(
        key=enrolled.certificate.key, election=enrolled.election, device="kiosk-01", epoch=1
    )
    for body_bytes, sig in chain * 2:  # the second pass takes the cached fast path
        body = __import__("json").loads(body_bytes)
        assert checker.check_light(body_bytes, sig)[:3] == (body["seq"], body["prev"], body["type"])
    body_bytes, sig = chain[3]
    with pytest.raises(SignatureError):
        checker.check_light(body_bytes, sig[:-1] + bytes([sig[-1] ^ 1]))
    other = records.RecordChecker(
        key=enrolled.certificate.key, election=enrolled.election, device="kiosk-02", epoch=1
    )
    other._valid = set(checker._valid)
    with pytest.raises(RecordError, match="record device does not match its certificate"):
        other.check_light(body_bytes, sig)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_the_line_hot_path_never_accepts_what_the_full_path_refuses(enrolled, data):
    """Any one-byte change of a ballot body, signed anew: fast_line agrees with check or abstains."""
    if not hasattr(enrolled, "hot_chain"):  # built once for all examples of this fixture
        enrolled.hot_chain = make_chain(enrolled, 6)
    chain = enrolled.hot_chain
    checker = records.RecordChecker(
        key=enrolled.certificate.key, election=enrolled.election, device="kiosk-01", epoch=1
    )
    for body_bytes, sig in chain:  # fill the cache of valid selections the honest way
        checker.check(body_bytes, sig)
    body_bytes = data.draw(st.sampled_from([b for b, _ in chain if b'"type":"ballot"' in b]))
    i = data.draw(st.integers(0, len(body_bytes) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != body_bytes[i]))
    mutated = body_bytes[:i] + bytes([new]) + body_bytes[i + 1 :]
    signature = crypto.sign(enrolled.device_key, "urne/1/record", mutated)
    got = checker.fast_line(records.encode_line(mutated, signature)[:-1])
    try:
        body = checker.check(mutated, signature)
    except (CanonicalError, RecordError, SelectionError) as exc:
        assert got is None, f"hot path accepted what the full path refuses: {exc}"
        return
    if got is not None:
        m, message, sig = got
        assert sig == signature and message == b"urne/1/record\x00" + mutated
        assert (int(m["seq"]), m["prev"].decode(), m["ballot"].decode()) == (
            body["seq"], body["prev"], body["ballot"],
        )  # fmt: skip
        assert (m["channel"].decode(), m["time"].decode()) == (body["channel"], body["time"])


def test_the_line_hot_path_abstains_on_a_bad_signature(enrolled):
    chain = make_chain(enrolled, 3)
    checker = records.RecordChecker(
        key=enrolled.certificate.key, election=enrolled.election, device="kiosk-01", epoch=1
    )
    for body_bytes, sig in chain:
        checker.check(body_bytes, sig)
    body_bytes, sig = chain[-1]
    assert checker.fast_line(records.encode_line(body_bytes, sig)[:-1]) is not None
    bad = sig[:-1] + bytes([sig[-1] ^ 1])
    assert checker.fast_line(records.encode_line(body_bytes, bad)[:-1]) is None
