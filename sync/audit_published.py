"""The audit folder written by `urne sync publish --out`: replay it and recompute its tally.

After every bundle verified (sync.audit), the replay checks the folder's own election package,
that every certified device has its bundles, then recomputes the tally from the bundles, the
signed duplicate groups and the signed decisions (sync.publish.recompute_tally) and requires it
to be byte for byte the published tally.json.
"""

from dataclasses import dataclass
from pathlib import Path

from . import crypto
from .canonical import canonical_bytes, parse_canonical
from .enroll import read_certificate
from .errors import BundleError, ElectionError, TallyError, UrneError

TALLY = "tally.json"
MARKERS = ("election.urne", TALLY, "bundles")


@dataclass
class PublishedCheck:
    """What became of one audit folder's replay."""

    folder: str
    ok: bool = False
    tally_sha256: str | None = None
    signer: str | None = None  # fingerprint of the central's signing key, to compare
    error: str | None = None
    error_class: str | None = None


def is_published(path):
    """Whether `path` is an audit folder (election.urne, tally.json and bundles/ in it)."""
    path = Path(path)
    return path.is_dir() and all((path / name).exists() for name in MARKERS)


def first_difference(expected, got, where="$"):
    """(path, expected value, got value) of the first place two JSON values differ, or None."""
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in sorted(set(expected) | set(got)):
            if key not in got or key not in expected:
                return f"{where}.{key}", expected.get(key, "(absent)"), got.get(key, "(absent)")
            found = first_difference(expected[key], got[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        for i, (a, b) in enumerate(zip(expected, got, strict=True)):
            found = first_difference(a, b, f"{where}[{i}]")
            if found:
                return found
        return None
    return None if expected == got else (where, expected, got)


def _short(value):
    text = canonical_bytes(value).decode() if not isinstance(value, str) else value
    return text if len(text) <= 200 else text[:200] + "..."


def compare_tally(recomputed, stated_bytes, where=TALLY):
    """Require the published tally bytes to equal the recomputed tally's; raise TallyError."""
    from .results import tally_json  # the tally's modules load only when a folder is replayed

    want = tally_json(recomputed)
    if stated_bytes == want:
        return
    try:
        stated = parse_canonical(stated_bytes.rstrip(b"\n"), where=where)
    except UrneError as exc:
        raise TallyError(f"the published tally is not canonical JSON ({exc})", where=where) from exc
    found = first_difference(recomputed, stated)
    if found is None:  # same value, other bytes (e.g. a missing final newline)
        raise TallyError("the published tally's bytes differ", where=where, expected=want[:80])
    path, expected, got = found
    raise TallyError(
        "the recomputed tally differs from the published one",
        where=f"{where} at {path}",
        expected=_short(expected),
        got=_short(got),
    )


def _check_certificates(folder, election, chains):
    """Every certificate in the folder has bundles, every verified chain has its certificate."""
    certified = set()
    for path in sorted((folder / "certificates").glob("*.json")):
        cert = read_certificate(path.read_bytes(), election, where=str(path))
        certified.add((cert.device, cert.epoch))
        if (cert.device, cert.epoch) not in chains:
            raise BundleError(
                "a certified device has no bundle in the folder (bundle removed?)",
                where=str(path),
                expected=f"bundles of {cert.device} epoch {cert.epoch}",
                got="none",
            )
    for device, epoch in sorted(set(chains) - certified):
        raise BundleError(
            "bundles of a device whose certificate is not in the folder",
            where=str(folder / "certificates"),
            expected=f"{device}-e{epoch}.json",
            got="absent",
        )


def replay(folder, election, report, *, revocations=None):
    """Replay an audit folder after `report` (its bundles' audit); return a PublishedCheck."""
    # Imported here: verifying plain bundles (the common case) starts without the tally's modules.
    from .publish import SIGNER_FILE, recompute_tally

    folder = Path(folder)
    check = PublishedCheck(str(folder))
    try:
        if (folder / "election.urne").read_bytes() != election.bytes:
            raise ElectionError(
                "the audit folder holds another election package",
                where=str(folder / "election.urne"),
                expected=election.id,
                got="other bytes",
            )
        signer = (folder / SIGNER_FILE).read_text().strip()
        check.signer = crypto.fingerprint(crypto.from_hex(signer, size=32, where=SIGNER_FILE))
        prefix = str(folder / "bundles")
        mine = [b for b in report.bundles if b.path.startswith(prefix)]
        if not mine or not all(b.ok for b in mine):
            raise TallyError(
                "tally not recomputed: the folder's bundles do not all verify", where=prefix
            )
        chains = {(c.device, c.epoch): c for c in report.chains}
        if not all(c.ok for c in chains.values()):
            raise TallyError("tally not recomputed: a chain has a gap, fork or error", where=prefix)
        _check_certificates(folder, election, chains)
        stated = (folder / TALLY).read_bytes()
        compare_tally(recompute_tally(folder, revocations=revocations), stated)
        check.tally_sha256 = crypto.sha256_hex(stated)
        check.ok = True
    except UrneError as exc:
        check.error, check.error_class = str(exc), type(exc).__name__
    except OSError as exc:
        check.error, check.error_class = f"cannot read the audit folder ({exc})", "BundleError"
    return check
