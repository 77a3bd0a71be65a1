"""The tamper table: one golden bundle, one mutator per attack, each refused with its own error."""

import io
import random
import zipfile

import pytest
from fixtures_records import MINI_SOURCE, golden_bundle, make_enrolled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import bundlezip, crypto, enroll, records
from sync.audit import audit
from sync.bundle import CERTIFICATE, MANIFEST, RECORDS, read_unverified_bundle, verify_bundle
from sync.bundle_rows import verify_bundle_rows
from sync.canonical import canonical_bytes, parse_canonical
from sync.election import build_package, read_package
from sync.errors import (
    BundleError,
    CanonicalError,
    ChainError,
    EnrollmentError,
    RecordError,
    RevokedError,
    SelectionError,
    SignatureError,
    UrneError,
)


class Parts:
    """A bundle taken apart: certificate bytes, record bodies with signatures, manifest body."""

    def __init__(self, ctx, data):
        zf = zipfile.ZipFile(io.BytesIO(data))
        self.ctx = ctx
        self.cert = zf.read(CERTIFICATE)
        self.lines = zf.read(RECORDS).split(b"\n")[:-1]
        doc = parse_canonical(zf.read(MANIFEST))
        self.manifest, self.signature = doc["manifest"], bytes.fromhex(doc["signature"])

    def body(self, i):
        return parse_canonical(records.decode_line(self.lines[i])[0])

    def resign(self, i, key=None, **changes):
        """Replace record i by an edited copy signed with the device key (a compromised kiosk)."""
        body = dict(self.body(i), **changes)
        self.lines[i] = records.encode_line(*records.sign_record(key or self.ctx.device_key, body))[
            :-1
        ]

    def records_bytes(self):
        return b"".join(line + b"\n" for line in self.lines)

    def pack(self, *, fix=True, sign=True, manifest_bytes=None, members=None):
        """Archive bytes; `fix` updates member hashes, `sign` re-signs the manifest."""
        m = dict(self.manifest)
        if fix:
            m["members"] = {
                CERTIFICATE: crypto.sha256_hex(self.cert),
                RECORDS: crypto.sha256_hex(self.records_bytes()),
            }
        sig = (
            crypto.sign(self.ctx.device_key, "urne/1/manifest", canonical_bytes(m))
            if sign
            else self.signature
        )
        if manifest_bytes is None:
            manifest_bytes = canonical_bytes({"manifest": m, "signature": sig.hex()})
        default = [
            (CERTIFICATE, self.cert),
            (RECORDS, self.records_bytes()),
            (MANIFEST, manifest_bytes),
        ]
        return bundlezip.pack(members if members is not None else default)

    def with_tail(self):
        """Set last, count and head from the lines (after deleting or adding records)."""
        last = self.body(len(self.lines) - 1)
        self.manifest.update(
            last=last["seq"],
            count=last["seq"] - self.manifest["first"] + 1,
            head=records.record_hash(records.decode_line(self.lines[-1])[0]),
        )
        return self


def _zip(members, **info):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data, *attrs in members:
            zi = zipfile.ZipInfo(name)
            for key, value in (attrs[0] if attrs else {}).items():
                setattr(zi, key, value)
            zf.writestr(zi, data)
    return buf.getvalue()


def _swap(p):
    p.lines[1], p.lines[2] = p.lines[2], p.lines[1]
    return p.pack()


def _delete(p):
    del p.lines[2]
    # Relink the rest so only the gap is wrong.
    for i in range(2, len(p.lines)):
        prev = records.record_hash(records.decode_line(p.lines[i - 1])[0])
        p.resign(i, prev=prev)
    return p.with_tail().pack()


def _add(p):
    body = dict(p.body(len(p.lines) - 1))
    body.update(seq=body["seq"] + 1, prev=records.record_hash(records.decode_line(p.lines[-1])[0]))
    body["ballot"] = "ab" * 16
    p.lines.append(records.encode_line(*records.sign_record(p.ctx.device_key, body))[:-1])
    return p.pack()  # manifest still announces the old count


def _renumber(p):
    p.resign(2, seq=2)
    return p.pack()


def _relink(p):
    p.resign(3, prev="00" * 32)
    return p.pack()


def _bad_selection(p):
    p.resign(1, selections={"dept": ["d1", "d2", "d3"], "canton-1": {}})
    return p.pack()


def _replayed_signature(p):
    # The manifest's exact bytes signed as if they were a record: another type, same key.
    m = dict(p.manifest)
    sig = crypto.sign(p.ctx.device_key, "urne/1/record", canonical_bytes(m))
    return p.pack(
        fix=False, manifest_bytes=canonical_bytes({"manifest": m, "signature": sig.hex()})
    )


def _manifest_device(p):
    p.manifest["device"] = "kiosk-02"
    return p.pack()


def _record_device(p):
    p.resign(1, device="kiosk-02")
    return p.pack()


def _float_record(p):
    body_bytes = records.decode_line(p.lines[1])[0].replace(b'"epoch":1', b'"epoch":1.0')
    p.lines[1] = records.encode_line(
        body_bytes, crypto.sign(p.ctx.device_key, "urne/1/record", body_bytes)
    )[:-1]
    return p.pack()


def _nan_manifest(p):
    raw = canonical_bytes({"manifest": p.manifest, "signature": p.signature.hex()})
    return p.pack(fix=False, manifest_bytes=raw.replace(b'"count":6', b'"count":NaN'))


def _duplicate_keys(p):
    raw = canonical_bytes({"manifest": p.manifest, "signature": p.signature.hex()})
    return p.pack(fix=False, manifest_bytes=raw.replace(b'{"count":6', b'{"count":6,"count":6'))


def _long_lang(p):
    p.resign(1, lang="x" * 5000)
    return p.pack()


def _huge_line(p):
    p.lines[1] = b"x" * 200_000
    return p.pack()


def _bomb(p):
    return _zip(
        [
            (CERTIFICATE, p.cert),
            (RECORDS, b"\n" * 20_000_000, {"compress_type": zipfile.ZIP_DEFLATED}),
            (MANIFEST, b"{}"),
        ]
    )


CASES = [
    # name, mutator(parts, golden bytes) -> bytes, error class, message pattern
    (
        "altered selection",
        lambda p, g: p.pack(
            fix=False,
            members=[
                (CERTIFICATE, p.cert),
                (RECORDS, p.records_bytes().replace(b'"d1","d3"', b'"d1","d2"', 1)),
                (
                    MANIFEST,
                    canonical_bytes({"manifest": p.manifest, "signature": p.signature.hex()}),
                ),
            ],
        ),
        BundleError,
        r"members\.records\.jsonl: member hash mismatch",
    ),
    (
        "altered selection, manifest re-signed",
        lambda p, g: (
            p.lines.__setitem__(2, p.lines[2].replace(b'"d1","d3"', b'"d1","d2"')),
            p.pack(),
        )[1],
        SignatureError,
        r"records\.jsonl:3: bad urne/1/record signature",
    ),
    (
        "invalid selection signed by the device",
        lambda p, g: _bad_selection(p),
        SelectionError,
        r"records\.jsonl:2: invalid selections.*wrong number of projects",
    ),
    (
        "altered manifest",
        lambda p, g: (p.manifest.update(created="2026-05-17T10:00"), p.pack(fix=False, sign=False))[
            1
        ],
        SignatureError,
        r"manifest\.json\.signature: bad urne/1/manifest signature",
    ),
    (
        "missing member",
        lambda p, g: p.pack(members=[(CERTIFICATE, p.cert), (MANIFEST, b"{}")]),
        BundleError,
        r"missing member",
    ),
    (
        "deleted record",
        lambda p, g: _delete(p),
        ChainError,
        r"records\.jsonl:3\.seq: chain broken \(seq skipped ahead.*expected 3, got 4",
    ),
    (
        "added record",
        lambda p, g: _add(p),
        ChainError,
        r"record count does not match the manifest: expected 6, got 7",
    ),
    (
        "reordered records",
        lambda p, g: _swap(p),
        ChainError,
        r"records\.jsonl:2\.seq: chain broken .*expected 2, got 3",
    ),
    (
        "renumbered record",
        lambda p, g: _renumber(p),
        ChainError,
        r"records\.jsonl:3\.seq: chain broken \(seq went back.*expected 3, got 2",
    ),
    (
        "relinked record",
        lambda p, g: _relink(p),
        ChainError,
        r"records\.jsonl:4\.prev: chain broken \(prev does not link\)",
    ),
    (
        "manifest device differs from certificate",
        lambda p, g: _manifest_device(p),
        BundleError,
        r"manifest device does not match the certificate: expected kiosk-01, got kiosk-02",
    ),
    (
        "record device differs from certificate",
        lambda p, g: _record_device(p),
        RecordError,
        r"records\.jsonl:2\.device: record device does not match its certificate",
    ),
    (
        "replayed signature of another type",
        lambda p, g: _replayed_signature(p),
        SignatureError,
        r"bad urne/1/manifest signature",
    ),
    ("truncated archive", lambda p, g: g[: len(g) // 2], BundleError, r"truncated archive"),
    ("trailing bytes", lambda p, g: g + b"\0", BundleError, r"truncated archive or trailing bytes"),
    ("zip bomb", lambda p, g: _bomb(p), BundleError, r"compression ratio too high"),
    (
        "path traversal",
        lambda p, g: _zip([("../" + CERTIFICATE, p.cert)]),
        BundleError,
        r"path traversal",
    ),
    (
        "absolute path",
        lambda p, g: _zip([("/etc/" + CERTIFICATE, p.cert)]),
        BundleError,
        r"absolute path",
    ),
    (
        "symbolic link",
        lambda p, g: _zip([(CERTIFICATE, b"/etc/passwd", {"external_attr": 0o120777 << 16})]),
        BundleError,
        r"symbolic link",
    ),
    (
        "duplicate member",
        lambda p, g: p.pack(
            members=[
                (CERTIFICATE, p.cert),
                (RECORDS, p.records_bytes()),
                (RECORDS, b""),
                (MANIFEST, b"{}"),
            ]
        ),
        BundleError,
        r"duplicate member",
    ),
    (
        "unexpected member",
        lambda p, g: p.pack(
            members=[
                (CERTIFICATE, p.cert),
                (RECORDS, p.records_bytes()),
                (MANIFEST, b"{}"),
                ("run.sh", b""),
            ]
        ),
        BundleError,
        r"unexpected member",
    ),
    (
        "deflated member",
        lambda p, g: _zip(
            [
                (CERTIFICATE, p.cert, {"compress_type": zipfile.ZIP_DEFLATED}),
                (RECORDS, p.records_bytes()),
                (MANIFEST, b"{}"),
            ]
        ),
        BundleError,
        r"non-canonical zip field",
    ),
    (
        "duplicate JSON keys",
        lambda p, g: _duplicate_keys(p),
        CanonicalError,
        r"duplicate object key",
    ),
    (
        "float in a record",
        lambda p, g: _float_record(p),
        CanonicalError,
        r"records\.jsonl:2: .*floats are not allowed",
    ),
    ("NaN in the manifest", lambda p, g: _nan_manifest(p), CanonicalError, r"non-finite number"),
    (
        "oversize string",
        lambda p, g: _long_lang(p),
        RecordError,
        r"records\.jsonl:2\.lang: bad lang",
    ),
    ("oversize line", lambda p, g: _huge_line(p), BundleError, r"line too long"),
]


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    root = tmp_path_factory.mktemp("tamper")
    ctx = make_enrolled(root / "kiosk")
    golden = golden_bundle(ctx, root / "golden.zip").read_bytes()
    return ctx, golden, root


def test_golden_bundle_verifies(kit):
    ctx, golden, root = kit
    (root / "g.zip").write_bytes(golden)
    assert verify_bundle(root / "g.zip", ctx.election).count == 6


@pytest.mark.parametrize("name, mutate, error, pattern", CASES, ids=[c[0] for c in CASES])
def test_tamper_case_refused(kit, name, mutate, error, pattern):
    ctx, golden, root = kit
    path = root / (name.replace(" ", "-").replace(",", "") + ".zip")
    path.write_bytes(mutate(Parts(ctx, golden), golden))
    with pytest.raises(error, match=pattern) as info:
        verify_bundle(path, ctx.election)
    assert type(info.value) is error
    # The central's import path refuses it with the same error.
    with pytest.raises(error, match=pattern) as again:
        verify_bundle_rows(path, ctx.election)
    assert type(again.value) is error and str(again.value) == str(info.value)
    # ... and from the bytes in memory, as import_bundle reads them.
    with pytest.raises(error, match=pattern) as memory:
        verify_bundle_rows(read_unverified_bundle(path, data=path.read_bytes()), ctx.election)
    assert type(memory.value) is error and str(memory.value) == str(info.value)
    # The parallel verifier refuses it with the same error.
    report = audit(ctx.election, [path], workers=1)
    assert not report.ok
    assert report.bundles[0].error_class == error.__name__


def test_unknown_device(kit, tmp_path):
    """A certificate from an authority the election does not know."""
    ctx, golden, _ = kit
    ctx2 = make_enrolled(tmp_path / "k2", seed=9)
    path = golden_bundle(ctx2, tmp_path / "b.zip")
    with pytest.raises(
        SignatureError, match=r"certificate\.json\.signature: bad urne/1/device signature"
    ):
        verify_bundle(path, ctx.election)


def test_revoked_device(kit, tmp_path):
    ctx, golden, _ = kit
    (tmp_path / "g.zip").write_bytes(golden)
    data = enroll.build_revocations(
        ctx.election,
        authority_key=ctx.authority_key,
        revoked=[{"device": "kiosk-01", "epoch": 1, "reason": "stolen"}],
        serial=1,
    )
    revocations = enroll.read_revocations(data, ctx.election)
    with pytest.raises(RevokedError, match=r"device kiosk-01 epoch 1 is revoked \(stolen\)"):
        verify_bundle(tmp_path / "g.zip", ctx.election, revocations)
    assert (
        audit(ctx.election, [tmp_path / "g.zip"], revocations=revocations, workers=1)
        .bundles[0]
        .error_class
        == "RevokedError"
    )


def test_wrong_election(kit, tmp_path):
    """Same authority, another election: the certificate names the other election."""
    ctx, golden, _ = kit
    source = dict(MINI_SOURCE, slug="another")
    package = build_package(
        source,
        authority_key=ctx.authority_key,
        central_public=crypto.public_bytes(ctx.central_key),
        secret=ctx.secret,
    )
    (tmp_path / "g.zip").write_bytes(golden)
    with pytest.raises(
        EnrollmentError, match=r"certificate\.json\.certificate\.election: wrong election"
    ):
        verify_bundle(tmp_path / "g.zip", read_package(package))


def test_file_name_must_agree_with_manifest(kit, tmp_path):
    ctx, golden, _ = kit
    (tmp_path / "kiosk-01-e1-0000001-0000006.urne").write_bytes(golden)
    verify_bundle(tmp_path / "kiosk-01-e1-0000001-0000006.urne", ctx.election)
    (tmp_path / "kiosk-02-e1-0000001-0000006.urne").write_bytes(golden)
    with pytest.raises(
        BundleError,
        match="file name and manifest disagree on the device: expected kiosk-01, got kiosk-02",
    ):
        verify_bundle(tmp_path / "kiosk-02-e1-0000001-0000006.urne", ctx.election)


_GOLDEN = {}


def _golden_once():
    if not _GOLDEN:
        import tempfile
        from pathlib import Path

        root = Path(tempfile.mkdtemp(prefix="urne-golden-"))
        ctx = make_enrolled(root / "kiosk")
        _GOLDEN.update(ctx=ctx, data=golden_bundle(ctx, root / "golden.zip", n=3).read_bytes())
    return _GOLDEN["ctx"], _GOLDEN["data"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_any_single_byte_change_is_detected(tmp_path, data):
    ctx, golden = _golden_once()
    i = data.draw(st.integers(0, len(golden) - 1), label="offset")
    new = data.draw(st.integers(0, 255).filter(lambda b: b != golden[i]), label="byte")
    path = tmp_path / "mutant.zip"
    path.write_bytes(golden[:i] + bytes([new]) + golden[i + 1 :])
    with pytest.raises(UrneError):
        verify_bundle(path, ctx.election)
    with pytest.raises(UrneError):
        verify_bundle_rows(path, ctx.election)
    with pytest.raises(UrneError):
        verify_bundle_rows(read_unverified_bundle(path, data=path.read_bytes()), ctx.election)


@pytest.mark.slow
def test_every_byte_position_single_flip(tmp_path):
    """Exhaustive over positions (one flip each), complementing the random property above."""
    ctx, golden = _golden_once()
    path = tmp_path / "m.zip"
    rng = random.Random(5)
    for i in range(len(golden)):
        path.write_bytes(
            golden[:i] + bytes([golden[i] ^ (1 << rng.randrange(8))]) + golden[i + 1 :]
        )
        with pytest.raises(UrneError):
            verify_bundle(path, ctx.election)
