"""Canonical JSON: RFC 8785 agreement (rfc8785 as oracle), strict parsing, round trips."""

import json
import unicodedata

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.canonical import MAX_SAFE_INTEGER, _parse_fast, canonical_bytes, parse_canonical
from sync.errors import CanonicalError

nfc_text = (
    st.text(max_size=12)
    .map(lambda s: unicodedata.normalize("NFC", s))
    .filter(
        lambda s: (
            unicodedata.is_normalized("NFC", s) and not any(0xD800 <= ord(c) <= 0xDFFF for c in s)
        )
    )
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | nfc_text
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nfc_text, inner, max_size=4),
    max_leaves=20,
)


# RFC 8785 section 3.2.3's sorting example, with U+FB33 (not NFC) replaced by U+FF21.
RFC_SORT = {
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\uff21": "Fullwidth A",
    "1": "One",
    "\U0001f600": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis",
}


def test_rfc8785_sorting_by_utf16_units():
    data = canonical_bytes(RFC_SORT)
    assert data == rfc8785.dumps(RFC_SORT)
    keys = list(json.loads(data))
    # The emoji (UTF-16 D83D DE00) sorts before U+FF21, though its code point is larger.
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\uff21"]


def test_rfc8785_string_escapes():
    value = '€$\u000f\nA\'B"\\\\"/\u007f\b\t\f\r'
    assert canonical_bytes(value) == rfc8785.dumps(value)
    assert canonical_bytes(value) == b'"\xe2\x82\xac$\\u000f\\nA\'B\\"\\\\\\\\\\"/\x7f\\b\\t\\f\\r"'


def test_rfc8785_literals_and_integers():
    value = {
        "numbers": [0, -1, 1, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER],
        "literals": [None, True, False],
    }
    assert canonical_bytes(value) == rfc8785.dumps(value)
    assert canonical_bytes(value) == (
        b'{"literals":[null,true,false],"numbers":[0,-1,1,9007199254740991,-9007199254740991]}'
    )


@settings(max_examples=120, deadline=None)
@given(values)
def test_agrees_with_rfc8785_and_round_trips(value):
    data = canonical_bytes(value)
    assert data == rfc8785.dumps(value)
    assert parse_canonical(data) == value


@settings(max_examples=120, deadline=None)
@given(values, st.data())
def test_fast_path_never_accepts_what_the_slow_path_refuses(value, data):
    raw = bytearray(canonical_bytes(value))
    if raw:
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 127))
    fast = _parse_fast(bytes(raw))
    if fast is not None:
        assert canonical_bytes(fast) == bytes(raw)


@pytest.mark.parametrize(
    "data, message",
    [
        (b'{"a":1,"a":2}', "duplicate object key"),
        (b"1.0", "floats are not allowed"),
        (b"1e3", "floats are not allowed"),
        (b"NaN", "non-finite number"),
        (b"-Infinity", "non-finite number"),
        (b"9007199254740992", "integer out of range"),
        (b"-0", "not in canonical form"),
        (b'{"b":1,"a":2}', "not in canonical form"),
        (b'{"a": 1}', "not in canonical form"),
        (b'"\\u0041"', "not in canonical form"),
        (b"[1]\n", "not in canonical form"),
        (b'"e\xcc\x81"', "not NFC"),
        (b'"\\ud800"', "lone surrogate"),
        (b'"\xff"', "not UTF-8"),
        (b"[" * 40 + b"]" * 40, "nesting too deep"),
        (b"{", "not JSON"),
    ],
)
def test_parse_refuses(data, message):
    with pytest.raises(CanonicalError, match=message):
        parse_canonical(data)


def test_parse_refuses_oversize_before_parsing():
    with pytest.raises(CanonicalError, match=r"document too large: expected <= 10 bytes, got 12"):
        parse_canonical(b'"0123456789"', max_bytes=10)


@pytest.mark.parametrize(
    "value", [1.5, float("nan"), 2**53, {1: "a"}, b"x", "e\u0301", {"a": set()}]
)
def test_encode_refuses(value):
    with pytest.raises(CanonicalError):
        canonical_bytes(value)
