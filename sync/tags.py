"""Voter tags (keyed, normalised identity), their sealing to the central, and receipt codes."""

import re
import unicodedata
from datetime import date

from . import crypto
from .canonical import canonical_bytes
from .errors import RecordError, SealError

FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}\Z")
MAX_VALUE = 200
# Spaces, hyphens and dashes, underscores and apostrophes all fold to one space.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015_'\u2019]+")
_DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})\Z")
_DATE_FR = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\Z")
# Crockford's base32: no I, L, O or U, so a code read aloud or typed is hard to get wrong.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_CHARS = 10


def _normalise_date(value, where):
    if isinstance(value, date):
        return value.isoformat()
    text = value.strip()
    m = _DATE_ISO.match(text)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        m = _DATE_FR.match(text)
        if not m:
            raise RecordError(
                "unreadable date", where=where, expected="YYYY-MM-DD or DD/MM/YYYY", got=value
            )
        d, mo, y = (int(g) for g in m.groups())
    try:
        return date(y, mo, d).isoformat()
    except ValueError as exc:
        raise RecordError("impossible date", where=where, got=value) from exc


def normalise_text(value):
    """Fold a name for matching: NFKD, no accents, case folded, spaces and hyphens collapsed."""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    # Casefolding can produce new combining marks or compatibility forms; fold once more.
    stripped = unicodedata.normalize("NFKD", stripped)
    stripped = "".join(c for c in stripped if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", _SEPARATORS.sub(" ", stripped).strip())


def normalise_identity(fields):
    """Canonical bytes of the normalised identity fields (the HMAC input of a voter tag)."""
    if not isinstance(fields, dict) or not fields:
        raise RecordError(
            "identity must be a non-empty object of fields", got=type(fields).__name__
        )
    out = {}
    for name, value in fields.items():
        where = f"identity.{name}"
        if not isinstance(name, str) or not FIELD_NAME.match(name):
            raise RecordError("bad identity field name", where=where, expected="[a-z][a-z0-9_]*")
        if isinstance(value, date) or name.endswith("date"):
            out[name] = _normalise_date(value, where)
            continue
        if not isinstance(value, str):
            raise RecordError("identity value must be text", where=where, got=type(value).__name__)
        if len(value) > MAX_VALUE:
            raise RecordError(
                "identity value too long", where=where, expected=f"<= {MAX_VALUE}", got=len(value)
            )
        text = normalise_text(value)
        if not text:
            raise RecordError("identity value is empty", where=where, got=repr(value))
        out[name] = text
    return canonical_bytes(out)


def voter_tag(voter_key, fields):
    """The 32-byte voter tag: HMAC-SHA256 under voter_key of the normalised identity."""
    return crypto.keyed_hash(voter_key, "urne/1/voter-tag", normalise_identity(fields))


def seal_tag(central_public, tag, election_id, *, ephemeral=None):
    """Seal a voter tag to the central's X25519 key; lowercase hex (160 digits)."""
    blob = crypto.seal(
        central_public, tag, "urne/1/voter-seal", election_id.encode("ascii"), ephemeral=ephemeral
    )
    return blob.hex()


def open_tag(central_private, sealed_hex, election_id, *, where=None):
    """Open a sealed voter tag with the central's private key; raise SealError."""
    blob = crypto.from_hex(sealed_hex, size=80, where=where, error=SealError)
    return crypto.open_sealed(
        central_private, blob, "urne/1/voter-seal", election_id.encode("ascii"), where=where
    )


def election_keys(secret):
    """(voter_key, receipt_key) derived from the election secret."""
    return (
        crypto.derive_key(secret, "urne/1/voter-key"),
        crypto.derive_key(secret, "urne/1/receipt-key"),
    )


def receipt_code(receipt_key, ballot_id):
    """A 10-character Crockford base32 code in two groups of 5 (e.g. "7K2QD-M9XHT")."""
    mac = crypto.keyed_hash(receipt_key, "urne/1/receipt", bytes.fromhex(ballot_id))
    n = int.from_bytes(mac[:8], "big") >> (64 - 5 * RECEIPT_CHARS)
    chars = "".join(
        CROCKFORD[(n >> (5 * (RECEIPT_CHARS - 1 - i))) & 31] for i in range(RECEIPT_CHARS)
    )
    return f"{chars[:5]}-{chars[5:]}"


def parse_receipt_code(text):
    """Normalise a typed receipt code (case, O/I/L look-alikes, spaces) to "XXXXX-XXXXX"."""
    cleaned = text.upper().translate(str.maketrans("OIL", "011"))
    cleaned = re.sub(r"[\s\-]", "", cleaned)
    if len(cleaned) != RECEIPT_CHARS or any(c not in CROCKFORD for c in cleaned):
        raise RecordError(
            "not a receipt code", expected=f"{RECEIPT_CHARS} base32 characters", got=text
        )
    return f"{cleaned[:5]}-{cleaned[5:]}"
