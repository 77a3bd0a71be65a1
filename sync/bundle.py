"""Bundles: one zip of a device's certificate, its signed records and a signed manifest."""

import hashlib
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import bundlezip, crypto
from .canonical import canonical_bytes, parse_canonical
from .enroll import read_certificate
from .errors import BundleError, ChainError, RecordError
from .records import (
    COARSE_TIME,
    HEX64,
    MAX_RECORD_BYTES,
    RecordChecker,
    check_link,
    coarse_time,
    decode_line,
    encode_line,
    genesis,
    record_hash,
)

MANIFEST, CERTIFICATE, RECORDS = "manifest.json", "certificate.json", "records.jsonl"
ORDER = (CERTIFICATE, RECORDS, MANIFEST)
LIMITS = {MANIFEST: 64 * 1024, CERTIFICATE: 64 * 1024, RECORDS: 768 << 20}
MAX_LINE = MAX_RECORD_BYTES + 200
# Bundle files are named <device>-e<epoch>-<first>-<last>.urne (or .zip); other names are
# allowed, but a name in this form must agree with the manifest.
NAME = re.compile(
    r"(?P<device>[a-z0-9][a-z0-9-]{0,31})-e(?P<epoch>[0-9]+)-(?P<first>[0-9]+)-(?P<last>[0-9]+)"
    r"\.(?:urne|zip)\Z"
)
MANIFEST_FIELDS = (
    "type", "election", "device", "epoch", "first", "last", "count", "head", "members",
    "created", "cumulative",
)  # fmt: skip


def bundle_name(device, epoch, first, last):
    """The file name of a bundle: <device>-e<epoch>-<first>-<last>.urne, seqs padded to 7 digits."""
    return f"{device}-e{epoch}-{first:07d}-{last:07d}.urne"


def check_name(path, manifest):
    """A file named in the bundle_name form must name the manifest's device, epoch and range."""
    m = NAME.match(Path(path).name)
    if not m:
        return
    for key in ("device", "epoch", "first", "last"):
        said = m[key] if key == "device" else int(m[key])
        if said != manifest[key]:
            raise BundleError(
                f"file name and manifest disagree on the {key}",
                where=Path(path).name,
                expected=manifest[key],
                got=said,
            )


# Writing ----------------------------------------------------------------------------------


def _lines(records, state):
    for item in records:
        body_bytes, signature = item[0], item[1]
        if isinstance(signature, str):
            signature = bytes.fromhex(signature)
        body = parse_canonical(bytes(body_bytes), where="record", max_bytes=MAX_RECORD_BYTES)
        if state["count"]:
            check_link(body, expected_seq=state["last"] + 1, expected_prev=state["head"])
        else:
            state["first"] = body["seq"]
            for key in ("election", "device", "epoch"):
                if body[key] != state[key]:
                    raise RecordError(
                        f"record {key} does not match the certificate",
                        where=f"record {body['seq']}",
                        expected=state[key],
                        got=body[key],
                    )
        state["count"] += 1
        state["last"] = body["seq"]
        state["head"] = record_hash(body_bytes)
        yield encode_line(body_bytes, signature)


def write_bundle(path, *, certificate_bytes, records, device_key, now, cumulative=False):
    """Write a bundle atomically (temporary file, fsync, rename, fsync folder); return its path.

    `records` is an iterable of (body_bytes, signature) in seq order, streamed, never held.
    """
    path = Path(path)
    cert_doc = parse_canonical(bytes(certificate_bytes), where=CERTIFICATE)
    cert = cert_doc["certificate"]
    state = {"count": 0, "election": cert["election"], "device": cert["device"]}
    state.update(epoch=cert["epoch"], head=None, first=None, last=None)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            writer = bundlezip.ZipWriter(f)
            cert_sha = writer.add(CERTIFICATE, bytes(certificate_bytes))
            records_sha = writer.add_stream(RECORDS, _lines(records, state))
            if not state["count"]:
                raise BundleError(
                    "nothing to export", where=str(path), expected=">= 1 record", got=0
                )
            if cumulative and state["first"] != 1:
                raise BundleError("a cumulative bundle starts at seq 1", got=state["first"])
            body = {
                "type": "manifest",
                "election": cert["election"],
                "device": cert["device"],
                "epoch": cert["epoch"],
                "first": state["first"],
                "last": state["last"],
                "count": state["count"],
                "head": state["head"],
                "members": {CERTIFICATE: cert_sha, RECORDS: records_sha},
                "created": coarse_time(now),
                "cumulative": bool(cumulative),
            }
            signature = crypto.sign(device_key, "urne/1/manifest", canonical_bytes(body))
            writer.add(MANIFEST, canonical_bytes({"manifest": body, "signature": signature.hex()}))
            writer.finish()
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


# Reading ----------------------------------------------------------------------------------


@dataclass
class UnverifiedBundle:
    """A structurally sound bundle whose signatures and records are not checked yet."""

    path: Path
    size: int
    hash: str
    manifest: dict
    manifest_signature: bytes
    certificate_bytes: bytes
    records_member: bundlezip.Member
    records_sha256: str
    data: bytes | None = field(default=None, repr=False)  # the file's bytes, when read whole

    def blocks(self, size=256 * 1024):
        """Yield (number of its first line, bytes of whole lines) from records.jsonl, streamed."""
        # Bytes in memory cannot change after the reader hashed them: no second hash then.
        sha = hashlib.sha256() if self.data is None else None
        rest, number = b"", 0
        with open(self.path, "rb") if self.data is None else io.BytesIO(self.data) as f:
            for chunk in bundlezip.stream_member(f, self.records_member, chunk=size):
                if sha is not None:
                    sha.update(chunk)
                data = rest + chunk
                cut = data.rfind(b"\n") + 1
                rest = data[cut:]
                if len(rest) > MAX_LINE:
                    line = number + data.count(b"\n", 0, cut) + 1
                    raise _too_long(line, len(rest))
                if cut:
                    yield number + 1, data[:cut]
                    number += data.count(b"\n", 0, cut)
        if rest:
            raise BundleError("last line has no newline", where=f"{RECORDS}:{number + 1}")
        # The file is read twice; refuse it if it changed in between.
        if sha is not None and sha.hexdigest() != self.records_sha256:
            raise BundleError("bundle changed while it was being verified", where=str(self.path))

    def lines(self):
        """Yield (line number, line without newline) from records.jsonl, streamed."""
        for first, block in self.blocks():
            yield from split_block(first, block)


def _too_long(number, length):
    return BundleError(
        "line too long", where=f"{RECORDS}:{number}", expected=f"<= {MAX_LINE} bytes", got=length
    )


def split_block(first, block):
    """(line number, line) pairs of a block of whole lines; refuse lines over MAX_LINE."""
    lines = block.split(b"\n")
    lines.pop()
    for i, line in enumerate(lines):
        if len(line) > MAX_LINE:
            raise _too_long(first + i, len(line))
    return zip(range(first, first + len(lines)), lines, strict=True)


def _check_manifest(body, where):
    if not isinstance(body, dict) or set(body) != set(MANIFEST_FIELDS):
        got = sorted(body) if isinstance(body, dict) else type(body).__name__
        raise BundleError(
            "wrong manifest fields", where=where, expected=sorted(MANIFEST_FIELDS), got=got
        )
    if body["type"] != "manifest":
        raise BundleError(
            "not a manifest", where=f"{where}.type", expected="manifest", got=body["type"]
        )
    for key in ("epoch", "first", "last", "count"):
        if type(body[key]) is not int or body[key] < 1:
            raise BundleError(
                f"bad {key}", where=f"{where}.{key}", expected="integer >= 1", got=repr(body[key])
            )
    if body["count"] != body["last"] - body["first"] + 1:
        raise BundleError(
            "count does not match the seq range",
            where=f"{where}.count",
            expected=body["last"] - body["first"] + 1,
            got=body["count"],
        )
    for key in ("election", "head"):
        if not isinstance(body[key], str) or not HEX64.match(body[key]):
            raise BundleError(
                f"bad {key}",
                where=f"{where}.{key}",
                expected="64 hex digits",
                got=repr(body[key])[:80],
            )
    members = body["members"]
    if not isinstance(members, dict) or set(members) != {CERTIFICATE, RECORDS}:
        raise BundleError(
            "bad members",
            where=f"{where}.members",
            expected=[CERTIFICATE, RECORDS],
            got=repr(members)[:80],
        )
    for name, value in members.items():
        if not isinstance(value, str) or not HEX64.match(value):
            raise BundleError(
                "bad member hash", where=f"{where}.members.{name}", expected="64 hex digits"
            )
    if not isinstance(body["created"], str) or not COARSE_TIME.match(body["created"]):
        raise BundleError(
            "bad created",
            where=f"{where}.created",
            expected="YYYY-MM-DDTHH:MM",
            got=repr(body["created"]),
        )
    if type(body["cumulative"]) is not bool or (body["cumulative"] and body["first"] != 1):
        raise BundleError(
            "bad cumulative flag",
            where=f"{where}.cumulative",
            expected="false, or true with first = 1",
            got=body["cumulative"],
        )


def read_unverified_bundle(path, *, file_hash=True, data=None):
    """Check a bundle's structure before extracting anything; raise BundleError.

    `file_hash=False` leaves `hash` (the whole file's SHA-256) None, for a reader that does not
    key anything by it (the audit verifier): one pass of hashing less. `data`: the file's bytes,
    already read whole (the central's import); `path` then only names it.
    """
    path = Path(path)
    if data is not None:
        size, f = len(data), io.BytesIO(data)
    else:
        try:
            size = path.stat().st_size
            f = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise BundleError(f"cannot read bundle ({exc.strerror})", where=str(path)) from exc
    with f:
        try:
            members = bundlezip.read_layout(f, size, ORDER, LIMITS)
        except BundleError as exc:
            raise BundleError(str(exc), where=str(path)) from exc
        manifest_bytes = bundlezip.read_member(f, members[MANIFEST])
        certificate_bytes = bundlezip.read_member(f, members[CERTIFICATE])
        # One pass over the file: its own hash (if asked) and the records member's hash and CRC.
        rec = members[RECORDS]
        file_sha = None
        if file_hash:
            f.seek(0)
            file_sha = hashlib.sha256(f.read(rec.offset))
        records_sha = hashlib.sha256()
        for chunk in bundlezip.stream_member(f, rec):
            records_sha.update(chunk)
            if file_sha is not None:
                file_sha.update(chunk)
        if file_sha is not None:
            file_sha.update(f.read())
    doc = parse_canonical(manifest_bytes, where=f"{path.name}:{MANIFEST}")
    if not isinstance(doc, dict) or set(doc) != {"manifest", "signature"}:
        got = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise BundleError(
            "not a manifest", where=MANIFEST, expected=["manifest", "signature"], got=got
        )
    signature = crypto.from_hex(doc["signature"], size=64, where=f"{MANIFEST}.signature")
    _check_manifest(doc["manifest"], f"{MANIFEST}.manifest")
    return UnverifiedBundle(
        path, size, file_sha.hexdigest() if file_sha is not None else None, doc["manifest"],
        signature, certificate_bytes, rec, records_sha.hexdigest(), data,
    )  # fmt: skip


# Verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedRecord:
    """One verified record: its seq, hash, exact bytes, signature and parsed body."""

    seq: int
    hash: str
    body_bytes: bytes
    signature: bytes
    body: dict


@dataclass
class VerifiedBundle:
    """A bundle whose every check passed."""

    path: Path
    device: str
    epoch: int
    first: int
    last: int
    count: int
    head: str
    hash: str
    cumulative: bool
    certificate: object
    manifest: dict
    records: list = field(default_factory=list, repr=False)


def verify_header(ub, election, revocations=None):
    """Checks before the records: certificate, revocation, election, manifest signature, hashes."""
    m = ub.manifest
    cert = read_certificate(ub.certificate_bytes, election, where=CERTIFICATE)
    if revocations is not None:
        revocations.check(cert.device, cert.epoch, where=CERTIFICATE)
    if m["election"] != election.id:
        raise BundleError(
            "bundle is for another election",
            where=f"{MANIFEST}.election",
            expected=election.id,
            got=m["election"],
        )
    crypto.verify(
        cert.key,
        "urne/1/manifest",
        canonical_bytes(m),
        ub.manifest_signature,
        where=f"{MANIFEST}.signature",
    )
    for key in ("device", "epoch"):
        if m[key] != getattr(cert, key):
            raise BundleError(
                f"manifest {key} does not match the certificate",
                where=f"{MANIFEST}.{key}",
                expected=getattr(cert, key),
                got=m[key],
            )
    check_name(ub.path, m)
    want = {CERTIFICATE: crypto.sha256_hex(ub.certificate_bytes), RECORDS: ub.records_sha256}
    for name, sha in want.items():
        if m["members"][name] != sha:
            raise BundleError(
                "member hash mismatch",
                where=f"{MANIFEST}.members.{name}",
                expected=sha,
                got=m["members"][name],
            )
    return cert


def check_tail(m, seen, last, head):
    """The manifest's range, count and head against what the records held."""
    if seen != m["count"] or last != m["last"]:
        raise ChainError(
            "record count does not match the manifest",
            where=f"{MANIFEST}.count",
            expected=m["count"],
            got=seen,
        )
    if head != m["head"]:
        raise ChainError(
            "head does not match the manifest",
            where=f"{MANIFEST}.head",
            expected=m["head"],
            got=head,
        )


def verify_bundle(source, election, revocations=None, *, keep_records=True):
    """Run every check on a bundle (path or UnverifiedBundle); return a VerifiedBundle or raise."""
    ub = source if isinstance(source, UnverifiedBundle) else read_unverified_bundle(source)
    cert = verify_header(ub, election, revocations)
    m = ub.manifest
    checker = RecordChecker(key=cert.key, election=election, device=cert.device, epoch=cert.epoch)
    seq, prev = (
        m["first"],
        genesis(election.id, cert.device, cert.epoch) if m["first"] == 1 else None,
    )
    out, seen = [], 0
    for number, line in ub.lines():
        where = f"{RECORDS}:{number}"
        body_bytes, signature = decode_line(line, where=where)
        body = checker.check(body_bytes, signature, where=where, selections=False)
        check_link(body, expected_seq=seq, expected_prev=prev, where=where)
        checker.check_selections(body, where=where)
        prev, seq, seen = record_hash(body_bytes), seq + 1, seen + 1
        if keep_records:
            out.append(VerifiedRecord(body["seq"], prev, bytes(body_bytes), signature, body))
    check_tail(m, seen, seq - 1, prev)
    return VerifiedBundle(
        ub.path, cert.device, cert.epoch, m["first"], m["last"], m["count"], m["head"], ub.hash,
        m["cumulative"], cert, m, out,
    )  # fmt: skip
