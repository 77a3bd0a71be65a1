"""Records on a device's chain: their fields, hashes, signatures and the records.jsonl line form."""

import re
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import crypto
from .canonical import FAST_DECODER, canonical_bytes, parse_canonical
from .errors import CanonicalError, ChainError, RecordError, SelectionError, SignatureError

VERSION = 1
MAX_RECORD_BYTES = 64 * 1024
MAX_REASON = 200
KINDS = ("ballot", "session_open", "session_close", "void")
CHANNELS = ("kiosk", "paper")
CLOCKS = ("agent", "system", "rtc")
DEVICE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,31}\Z")
HEX64 = re.compile(r"[0-9a-f]{64}\Z")
HEX32 = re.compile(r"[0-9a-f]{32}\Z")
SEALED_TAG = re.compile(r"[0-9a-f]{160}\Z")
_DAY = r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3])"
COARSE_TIME = re.compile(_DAY + r":(?:00|15|30|45)\Z")
MINUTE_TIME = re.compile(_DAY + r":[0-5][0-9]\Z")
LANG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})?\Z")
SIG_HEX = re.compile(rb"[0-9a-f]{128}\Z")
# The whole of a canonical ballot body in one pattern (keys in canonical order): checking it in C
# spares the verifier the field-by-field walk. Anything it does not match takes validate_body.
BALLOT_BYTES = re.compile(
    rb'\{"ballot":"(?P<ballot>[0-9a-f]{32})","channel":"(?P<channel>kiosk|paper)","clock":"(?:agent|system|rtc)",'
    rb'"device":"(?P<device>[a-z0-9][a-z0-9-]{0,31})","election":"(?P<election>[0-9a-f]{64})",'
    rb'"epoch":(?P<epoch>[1-9][0-9]{0,15}),"lang":"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})?",'
    rb'"prev":"(?P<prev>[0-9a-f]{64})","selections":(?P<selections>\{.*\}),'
    rb'"seq":(?P<seq>[1-9][0-9]{0,15}),"time":"(?P<time>' + _DAY.encode() + rb':(?:00|15|30|45))",'
    rb'"type":"ballot","v":1,"voter":"[0-9a-f]{160}"\}\Z',
    re.S,
)
# A whole records.jsonl line whose body BALLOT_BYTES matches: the verifier's hot path.
BALLOT_LINE = re.compile(
    rb'\{"body":(?P<body>' + BALLOT_BYTES.pattern.removesuffix(rb"\Z")
    + rb'),"sig":"(?P<sig>[0-9a-f]{128})"\}\Z',
    re.S,
)  # fmt: skip
LINE_OVERHEAD = len(b'{"body":') + len(b',"sig":"') + 128 + len(b'"}')
RECORD_PREFIX = b"urne/1/record\x00"  # signed message = hashed bytes = prefix || body bytes
COMMON = ("v", "type", "election", "device", "epoch", "seq", "prev")
MAX_CACHED_SELECTIONS = 100_000
_BALLOT_KEYS = frozenset(
    COMMON + ("ballot", "selections", "channel", "lang", "time", "clock", "voter")
)
FIELDS = {
    "ballot": ("ballot", "selections", "channel", "lang", "time", "clock", "voter"),
    "session_open": ("time", "clock"),
    "session_close": ("time", "clock", "ballots", "voids", "total"),
    "void": ("ballot", "reason", "time"),
}


def genesis(election_id, device, epoch):
    """The `prev` of record 1 of a chain: a hash binding election, device and epoch."""
    payload = canonical_bytes({"election": election_id, "device": device, "epoch": epoch})
    return crypto.digest("urne/1/genesis", payload)


def record_hash(body_bytes):
    """The hash of a record (what the next record's `prev` holds)."""
    return crypto.digest("urne/1/record", body_bytes)


def coarse_time(moment):
    """A ballot's claimed time: "YYYY-MM-DDTHH:MM" rounded down to the quarter hour."""
    return moment.replace(minute=moment.minute - moment.minute % 15).strftime("%Y-%m-%dT%H:%M")


def minute_time(moment):
    """A session record's time: "YYYY-MM-DDTHH:MM"."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def _need(cond, message, where, expected=None, got=None):
    if not cond:
        raise RecordError(message, where=where, expected=expected, got=got)


def _count(body, key, where):
    value = body[key]
    _need(
        type(value) is int and value >= 0,
        f"bad {key}",
        f"{where}.{key}",
        "integer >= 0",
        repr(value)[:40],
    )


def _matches(pattern, body, key, where, expected):
    value = body[key]
    _need(
        isinstance(value, str) and pattern.match(value),
        f"bad {key}",
        f"{where}.{key}",
        expected,
        repr(value)[:80],
    )


def validate_body(body, *, where="record"):
    """Check a record body's shape and field formats (not its selections); raise RecordError."""
    _need(isinstance(body, dict), "record is not an object", where, "object", type(body).__name__)
    kind = body.get("type")
    _need(kind in FIELDS, "unknown record type", f"{where}.type", "|".join(KINDS), repr(kind))
    expected_keys = set(COMMON) | set(FIELDS[kind])
    if body.keys() != expected_keys:
        missing = sorted(expected_keys - body.keys())
        extra = sorted(body.keys() - expected_keys)
        raise RecordError(
            f"wrong fields for a {kind} record",
            where=where,
            expected=sorted(expected_keys),
            got=f"missing {missing}, extra {extra}",
        )
    _need(
        body["v"] == VERSION and type(body["v"]) is int,
        "bad version",
        f"{where}.v",
        VERSION,
        body["v"],
    )
    _matches(HEX64, body, "election", where, "64 hex digits")
    _matches(DEVICE_NAME, body, "device", where, "[a-z0-9][a-z0-9-]{0,31}")
    for key in ("epoch", "seq"):
        value = body[key]
        _need(
            type(value) is int and value >= 1,
            f"bad {key}",
            f"{where}.{key}",
            "integer >= 1",
            repr(value)[:40],
        )
    _matches(HEX64, body, "prev", where, "64 hex digits")
    if kind == "ballot":
        _matches(HEX32, body, "ballot", where, "32 hex digits")
        _need(
            isinstance(body["selections"], dict),
            "bad selections",
            f"{where}.selections",
            "object",
            type(body["selections"]).__name__,
        )
        _need(
            body["channel"] in CHANNELS,
            "bad channel",
            f"{where}.channel",
            "|".join(CHANNELS),
            repr(body["channel"])[:40],
        )
        _matches(LANG, body, "lang", where, "a language tag")
        _matches(COARSE_TIME, body, "time", where, "YYYY-MM-DDTHH:MM on a quarter hour")
        _need(
            body["clock"] in CLOCKS,
            "bad clock",
            f"{where}.clock",
            "|".join(CLOCKS),
            repr(body["clock"])[:40],
        )
        _matches(SEALED_TAG, body, "voter", where, "160 hex digits (sealed tag)")
    elif kind == "void":
        _matches(HEX32, body, "ballot", where, "32 hex digits")
        reason = body["reason"]
        _need(
            isinstance(reason, str) and 0 < len(reason) <= MAX_REASON,
            "bad reason",
            f"{where}.reason",
            f"1 to {MAX_REASON} characters",
            repr(reason)[:40],
        )
        _matches(COARSE_TIME, body, "time", where, "YYYY-MM-DDTHH:MM on a quarter hour")
    else:
        _matches(MINUTE_TIME, body, "time", where, "YYYY-MM-DDTHH:MM")
        _need(
            body["clock"] in CLOCKS,
            "bad clock",
            f"{where}.clock",
            "|".join(CLOCKS),
            repr(body["clock"])[:40],
        )
        if kind == "session_close":
            for key in ("ballots", "voids", "total"):
                _count(body, key, where)
    return body


def new_record(kind, *, election_id, device, epoch, seq, prev, **fields):
    """Build and validate a record body (selections are checked by the election, not here)."""
    body = {"v": VERSION, "type": kind, "election": election_id, "device": device}
    body.update({"epoch": epoch, "seq": seq, "prev": prev, **fields})
    return validate_body(body, where=f"new {kind} record")


def sign_record(device_key, body):
    """(body_bytes, signature) of a record under the device key."""
    body_bytes = canonical_bytes(body)
    return body_bytes, crypto.sign(device_key, "urne/1/record", body_bytes)


def encode_line(body_bytes, signature):
    """One records.jsonl line: canonical {"body": ..., "sig": hex} and a newline."""
    return b'{"body":' + bytes(body_bytes) + b',"sig":"' + signature.hex().encode() + b'"}\n'


_SUFFIX = len(b',"sig":"') + 128 + len(b'"}')


def decode_line(line, *, where="line"):
    """Split a records.jsonl line (without its newline) into (body_bytes, signature)."""
    if (
        line.startswith(b'{"body":{')
        and line[-_SUFFIX:-130] == b',"sig":"'
        and line.endswith(b'"}')
        and SIG_HEX.match(line[-130:-2])
    ):
        return line[8:-_SUFFIX], bytes.fromhex(line[-130:-2].decode())
    # Not the expected layout: parse it to say precisely what is wrong.
    value = parse_canonical(bytes(line), where=where, max_bytes=MAX_RECORD_BYTES + 200)
    if not isinstance(value, dict) or set(value) != {"body", "sig"}:
        got = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise RecordError("bad line", where=where, expected='{"body", "sig"}', got=got)
    if not isinstance(value["body"], dict):
        raise RecordError(
            "bad line", where=f"{where}.body", expected="object", got=type(value["body"]).__name__
        )
    raise SignatureError(
        "bad signature encoding",
        where=f"{where}.sig",
        expected="128 hex digits",
        got=repr(value["sig"])[:40],
    )


class RecordChecker:
    """Checks records of one certified device chain: bytes, signature, fields, selections."""

    def __init__(self, *, key, election, device, epoch):
        self.public = Ed25519PublicKey.from_public_bytes(bytes(key))
        self.election = election
        self.election_id = election.id
        self.device = device
        self.epoch = epoch
        self._valid = set()
        self._last = None
        self._election_bytes = self.election_id.encode()
        self._device_bytes = device.encode()

    def _fast_ballot(self, body_bytes):
        """Parse a ballot whose layout BALLOT_BYTES proves canonical; None for the full path."""
        fast = BALLOT_BYTES.match(body_bytes)
        if not fast or not body_bytes.isascii():
            return None
        try:
            body = FAST_DECODER.decode(body_bytes.decode("ascii"))
        except (ValueError, CanonicalError):
            return None
        raw = fast["selections"]
        if body.keys() != _BALLOT_KEYS or type(body["selections"]) is not dict:
            return None
        # Everything outside the selections has one possible spelling; the selections bytes must
        # be canonical too (checked once per distinct selections, then remembered).
        if raw not in self._valid:
            try:
                if canonical_bytes(body["selections"]) != raw:
                    return None
            except CanonicalError:
                return None
        self._last = (body, raw)  # lets check_selections use the cache for this body
        return body

    def fast_line(self, line):
        """(BALLOT_LINE match, signed message, signature) of a whole line on the hot path, or None.

        Only a ballot whose layout BALLOT_LINE proves, for this chain, with selections bytes already
        found canonical and valid, and a good signature qualifies; anything else (including a bad
        signature) returns None so that the full path raises its specific error.
        """
        got = self.fast_unsigned(line)
        if got is None:
            return None
        try:
            self.public.verify(got[2], got[1])
        except InvalidSignature:
            return None
        return got

    def fast_unsigned(self, line):
        """fast_line without the signature check: for a SignatureBatch to verify later."""
        m = BALLOT_LINE.match(line)
        if (
            m is None
            or len(line) - LINE_OVERHEAD > MAX_RECORD_BYTES
            or m["selections"] not in self._valid
            or m["election"] != self._election_bytes
            or m["device"] != self._device_bytes
            or int(m["epoch"]) != self.epoch
        ):
            return None
        return m, RECORD_PREFIX + m["body"], bytes.fromhex(m["sig"].decode())

    def check_light(self, body_bytes, signature, *, where="record"):
        """Like check, but returns (seq, prev, type, body or None, ballot id hex or None).

        The verifier's hot path.

        A ballot whose layout BALLOT_BYTES proves and whose selections bytes were already found
        canonical and valid needs no JSON parsing at all: only its signature is checked.
        """
        fast = BALLOT_BYTES.match(body_bytes)
        if (
            fast
            and len(body_bytes) <= MAX_RECORD_BYTES
            and fast["selections"] in self._valid
            and fast["election"] == self._election_bytes
            and fast["device"] == self._device_bytes
            and int(fast["epoch"]) == self.epoch
        ):
            try:
                self.public.verify(signature, crypto.domain_message("urne/1/record", body_bytes))
            except InvalidSignature as exc:
                raise SignatureError("bad urne/1/record signature", where=where) from exc
            return int(fast["seq"]), fast["prev"].decode(), "ballot", None, fast["ballot"].decode()
        body = self.check(body_bytes, signature, where=where, selections=False)
        return body["seq"], body["prev"], body["type"], body, body.get("ballot")

    def check(self, body_bytes, signature, *, where="record", selections=True):
        """Return the verified body; raise CanonicalError, SignatureError, RecordError, SelectionError."""
        self._last = None
        body = self._fast_ballot(body_bytes) if len(body_bytes) <= MAX_RECORD_BYTES else None
        if body is None:
            body = parse_canonical(body_bytes, where=where, max_bytes=MAX_RECORD_BYTES)
        try:
            self.public.verify(signature, crypto.domain_message("urne/1/record", body_bytes))
        except InvalidSignature as exc:
            raise SignatureError("bad urne/1/record signature", where=where) from exc
        if self._last is None:
            validate_body(body, where=where)
        for key, want in (
            ("election", self.election_id),
            ("device", self.device),
            ("epoch", self.epoch),
        ):
            if body[key] != want:
                raise RecordError(
                    f"record {key} does not match its certificate",
                    where=f"{where}.{key}",
                    expected=want,
                    got=body[key],
                )
        if selections:
            self.check_selections(body, where=where)
        return body

    def check_selections(self, body, *, where="record"):
        """Raise SelectionError unless a ballot's selections are valid under the rules."""
        raw = self._last[1] if self._last and self._last[0] is body else None
        if body["type"] != "ballot" or (raw is not None and raw in self._valid):
            return
        try:
            self.election.validate_selections(body["selections"], where=f"{where}.selections")
        except SelectionError as exc:
            raise SelectionError(f"invalid selections ({exc})", where=where) from exc
        # Identical selections bytes are identical choices: each is checked against the rules once.
        if raw is not None and len(self._valid) < MAX_CACHED_SELECTIONS:
            self._valid.add(raw)


def check_link(body, *, expected_seq, expected_prev, where="record"):
    """Chain continuity of one record: its seq and (when known) its prev; raise ChainError."""
    if body["seq"] != expected_seq:
        kind = (
            "seq skipped ahead: a record is missing or out of order"
            if body["seq"] > expected_seq
            else "seq went back: a record is repeated or out of order"
        )
        raise ChainError(
            f"chain broken ({kind})", where=f"{where}.seq", expected=expected_seq, got=body["seq"]
        )
    if expected_prev is not None and body["prev"] != expected_prev:
        raise ChainError(
            "chain broken (prev does not link)",
            where=f"{where}.prev",
            expected=expected_prev,
            got=body["prev"],
        )


def check_record(
    body_bytes, signature, *, certificate, election, expected_seq, expected_prev, where="record"
):
    """Verify one record in its chain and return its body; raise, never return a bool."""
    checker = RecordChecker(
        key=certificate.key, election=election, device=certificate.device, epoch=certificate.epoch
    )
    body = checker.check(body_bytes, signature, where=where)
    check_link(body, expected_seq=expected_seq, expected_prev=expected_prev, where=where)
    return body


def parse_time(text):
    """A record time back to a naive datetime (for reports)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M")
