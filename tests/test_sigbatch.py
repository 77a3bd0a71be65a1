"""Signatures verified a block at a time: the same first error as one line at a time."""

import pytest
from fixtures_records import golden_bundle, make_chain, make_enrolled
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_tamper import Parts

from sync import records
from sync.audit import audit
from sync.bundle import read_unverified_bundle, verify_bundle
from sync.bundle_rows import verify_bundle_rows
from sync.errors import ChainError, SignatureError, UrneError
from sync.sigbatch import SignatureBatch

N = 12  # record 1 opens the session, 2 to 4 show the 3 selections; from 5 on, the hot path


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    root = tmp_path_factory.mktemp("sigbatch")
    ctx = make_enrolled(root / "kiosk")
    return ctx, golden_bundle(ctx, root / "golden.zip", n=N).read_bytes()


def _checker(ctx, chain):
    checker = records.RecordChecker(
        key=ctx.certificate.key, election=ctx.election, device=ctx.device, epoch=ctx.epoch
    )
    for body_bytes, sig in chain:  # the selections seen, as a bundle's first lines do
        checker.check(body_bytes, sig)
    return checker


def _full(checker):
    def full(number, line):
        body_bytes, signature = records.decode_line(line, where=f"records.jsonl:{number}")
        checker.check(body_bytes, signature, where=f"records.jsonl:{number}")

    return full


def _bad(sig):
    return sig[:-1] + bytes([sig[-1] ^ 1])


def test_flush_raises_the_first_bad_signature_in_line_order(kit):
    ctx, _ = kit
    chain = make_chain(ctx, 6)
    checker = _checker(ctx, chain)
    batch = SignatureBatch(checker, _full(checker))
    for number, (body_bytes, sig) in enumerate(chain[1:], start=2):
        sig = _bad(sig) if number in (4, 6) else sig
        got = checker.fast_unsigned(records.encode_line(body_bytes, sig)[:-1])
        assert got is not None  # parsed without its signature checked
        batch.add(number, records.encode_line(body_bytes, sig)[:-1], got[2], got[1])
    with pytest.raises(SignatureError, match=r"records\.jsonl:4: bad urne/1/record signature"):
        batch.flush()
    batch.flush()  # what was pending is gone: nothing left to raise


def _one_bad_line(ctx):
    """A batch, and record 4 of a chain as a hot-path line with a bad signature, parsed."""
    chain = make_chain(ctx, 4)
    checker = _checker(ctx, chain)
    body_bytes, sig = chain[-1]
    line = records.encode_line(body_bytes, _bad(sig))[:-1]
    _, message, signature = checker.fast_unsigned(line)
    return SignatureBatch(checker, _full(checker)), (4, line, signature, message)


def test_flushing_puts_an_earlier_bad_signature_before_a_later_error(kit):
    batch, parsed = _one_bad_line(kit[0])
    with pytest.raises(SignatureError, match=r"records\.jsonl:4"), batch.flushing():
        batch.add(*parsed)
        raise ChainError("a later line's error", where="records.jsonl:5")
    with pytest.raises(ChainError, match=r"records\.jsonl:5"), batch.flushing():
        raise ChainError("a later line's error", where="records.jsonl:5")  # nothing pending


def test_flushing_verifies_at_the_end(kit):
    batch, parsed = _one_bad_line(kit[0])
    with pytest.raises(SignatureError, match=r"records\.jsonl:4"), batch.flushing():
        batch.add(*parsed)


# Two faults in one bundle: every verifier reports the same first one ---------------------------


def _flip_signature(p, i):
    body_bytes, sig = records.decode_line(p.lines[i])
    p.lines[i] = records.encode_line(body_bytes, _bad(sig))[:-1]


FAULTS = {
    "bad signature": _flip_signature,
    "relinked": lambda p, i: p.resign(i, prev="00" * 32),
    "renumbered": lambda p, i: p.resign(i, seq=i + 3),
    "bad selection": lambda p, i: p.resign(
        i, selections={"dept": ["d1", "d2", "d3"], "canton-1": {}}
    ),
    "other device": lambda p, i: p.resign(i, device="kiosk-02"),
    "not json": lambda p, i: p.lines.__setitem__(i, b"{" + p.lines[i]),
    "line too long": lambda p, i: p.lines.__setitem__(i, b"x" * 200_000),
}


def _errors(path, election):
    """The error of each verifier on the bundle at path: (class name, message) of each."""
    out = []
    for verify in (
        lambda: verify_bundle(path, election),
        lambda: verify_bundle_rows(path, election),
        lambda: verify_bundle_rows(read_unverified_bundle(path, data=path.read_bytes()), election),
    ):
        with pytest.raises(UrneError) as info:
            verify()
        out.append((type(info.value).__name__, str(info.value)))
    report = audit(election, [path], workers=1)
    out.append((report.bundles[0].error_class, report.bundles[0].error))
    return out


def test_a_hot_line_bad_signature_comes_before_a_later_broken_link(kit, tmp_path):
    ctx, golden = kit
    p = Parts(ctx, golden)
    _flip_signature(p, 5)
    p.resign(8, prev="00" * 32)
    path = tmp_path / "two.zip"
    path.write_bytes(p.pack())
    first = ("SignatureError", "records.jsonl:6: bad urne/1/record signature")
    assert _errors(path, ctx.election) == [first] * 4


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(sorted(FAULTS)),
    st.sampled_from(sorted(FAULTS)),
    st.lists(st.integers(1, N - 1), min_size=2, max_size=2, unique=True),
)
@example("bad signature", "relinked", [5, 8])
@example("bad signature", "bad selection", [9, 10])
@example("bad signature", "line too long", [10, 11])
def test_two_faults_give_the_same_first_error_everywhere(kit, tmp_path, one, two, lines):
    """The reference verify_bundle checks line by line; the batched paths must agree with it."""
    ctx, golden = kit
    p = Parts(ctx, golden)
    FAULTS[one](p, lines[0])
    FAULTS[two](p, lines[1])
    path = tmp_path / "faults.zip"
    path.write_bytes(p.pack())
    errors = _errors(path, ctx.election)
    assert errors[1:3] == [errors[0]] * 2
    # The audit reports the class; its message may name a chunk instead of a line.
    assert errors[3][0] == errors[0][0]
