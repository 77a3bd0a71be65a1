"""Canonical JSON: a restricted RFC 8785 (JCS) subset, the only bytes Urne hashes or signs."""

import json
import unicodedata

from .errors import CanonicalError

MAX_SAFE_INTEGER = 2**53 - 1
MAX_DEPTH = 32


def _check_string(value, where):
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalError("lone surrogate in string", where=where) from exc
    if not unicodedata.is_normalized("NFC", value):
        raise CanonicalError(
            "string is not NFC-normalised", where=where, expected="NFC", got=repr(value[:40])
        )


def _check(value, where, depth):
    if depth > MAX_DEPTH:
        raise CanonicalError("nesting too deep", where=where, expected=f"<= {MAX_DEPTH}", got=depth)
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalError(
                "integer out of range", where=where, expected="|x| < 2^53", got=value
            )
        return
    if isinstance(value, float):
        raise CanonicalError("floats are not allowed", where=where, expected="integer", got=value)
    if isinstance(value, str):
        _check_string(value, where)
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check(item, f"{where}[{i}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError("object key is not a string", where=where, got=repr(key))
            _check_string(key, f"{where}.{key}")
            _check(item, f"{where}.{key}", depth + 1)
        return
    raise CanonicalError("unsupported type", where=where, got=type(value).__name__)


def _sort_key(key):
    # RFC 8785 orders keys by their UTF-16 code units, not by code points.
    return key.encode("utf-16-be")


def _encode(value, out):
    if isinstance(value, dict):
        out.append("{")
        for i, key in enumerate(sorted(value, key=_sort_key)):
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _encode(value[key], out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif isinstance(value, int):
        out.append(str(int(value)))
    else:
        # json.dumps escapes exactly as RFC 8785 does for strings with ensure_ascii off.
        out.append(json.dumps(value, ensure_ascii=False))


def canonical_bytes(value):
    """Return the canonical UTF-8 bytes of a JSON value, or raise CanonicalError."""
    _check(value, "$", 0)
    out = []
    _encode(value, out)
    return "".join(out).encode("utf-8")


def _no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise CanonicalError("duplicate object key", where=key)
        obj[key] = value
    return obj


def _no_float(text):
    raise CanonicalError("floats are not allowed", expected="integer", got=text)


def _no_constant(text):
    raise CanonicalError("non-finite number", expected="integer", got=text)


def _parse_fast(data):
    """Parse ASCII-only canonical bytes with C-speed checks; None means "take the slow path"."""
    # ASCII strings are NFC and sort the same by code point and by UTF-16 unit, so the C
    # encoder's sort_keys output is the canonical form; anything unusual falls back.
    if not data.isascii() or data.count(b"[") + data.count(b"{") > MAX_DEPTH:
        return None
    try:
        value = FAST_DECODER.decode(data.decode("ascii"))
        again = _FAST_ENCODER.encode(value).encode("utf-8")
    except (ValueError, RecursionError, UnicodeEncodeError, CanonicalError):
        return None
    return value if again == data else None


def _safe_int(text):
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise CanonicalError("integer out of range", expected="|x| < 2^53", got=text)
    return value


# Parses with the subset's number rules at C speed (callers must still check canonical form).
FAST_DECODER = json.JSONDecoder(
    parse_float=_no_float, parse_int=_safe_int, parse_constant=_no_constant
)
_FAST_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def parse_canonical(data, *, where="$", max_bytes=1 << 20):
    """Parse bytes that must already be canonical; raise CanonicalError otherwise."""
    if not isinstance(data, (bytes, bytearray)):
        raise CanonicalError("expected bytes", where=where, got=type(data).__name__)
    if len(data) > max_bytes:
        raise CanonicalError(
            "document too large", where=where, expected=f"<= {max_bytes} bytes", got=len(data)
        )
    value = _parse_fast(bytes(data))
    if value is not None:
        return value
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalError("not UTF-8", where=where) from exc
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=_no_float,
            parse_constant=_no_constant,
        )
    except CanonicalError as exc:
        raise CanonicalError(str(exc), where=where) from exc
    except (ValueError, RecursionError) as exc:
        raise CanonicalError(f"not JSON ({exc})", where=where) from exc
    again = canonical_bytes(value)
    if again != bytes(data):
        raise CanonicalError("bytes are not in canonical form", where=where)
    return value
