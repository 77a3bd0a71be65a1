"""Voter tags: normalisation, keyed tags, sealing to the central, receipt codes."""

import random
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import tags
from sync.canonical import parse_canonical
from sync.errors import RecordError, SealError

KEY = bytes(range(32))


@pytest.mark.parametrize(
    "a, b",
    [
        ({"last_name": "Étchébérry"}, {"last_name": "ETCHEBERRY"}),
        ({"last_name": "Jean-Pierre"}, {"last_name": "jean  pierre"}),
        ({"last_name": "D’Artagnan"}, {"last_name": "d'artagnan"}),
        ({"last_name": "Straße"}, {"last_name": "STRASSE"}),
        ({"last_name": "ﬁnn"}, {"last_name": "Finn"}),
        ({"birth_date": "05/03/1990"}, {"birth_date": "1990-03-05"}),
        ({"birth_date": date(1990, 3, 5)}, {"birth_date": "1990-3-5"}),
        ({"last_name": " Iñaki\t"}, {"last_name": "INAKI"}),
    ],
)
def test_same_person_written_differently_gets_the_same_tag(a, b):
    assert tags.normalise_identity(a) == tags.normalise_identity(b)
    assert tags.voter_tag(KEY, a) == tags.voter_tag(KEY, b)


def test_normalised_identity_is_canonical_and_readable():
    raw = tags.normalise_identity({"last_name": "Ibañez-Ürrutia", "birth_date": "1.2.2001"})
    assert raw == b'{"birth_date":"2001-02-01","last_name":"ibanez urrutia"}'
    assert parse_canonical(raw)


def test_different_people_and_keys_differ():
    assert tags.voter_tag(KEY, {"last_name": "Martin"}) != tags.voter_tag(
        KEY, {"last_name": "Martine"}
    )
    assert tags.voter_tag(KEY, {"last_name": "Martin"}) != tags.voter_tag(
        b"\1" * 32, {"last_name": "Martin"}
    )
    assert len(tags.voter_tag(KEY, {"last_name": "Martin"})) == 32


@pytest.mark.parametrize(
    "fields, message",
    [
        ({}, "non-empty object"),
        ({"Name": "x"}, "bad identity field name"),
        ({"last_name": "--"}, "identity value is empty"),
        ({"last_name": 3}, "must be text"),
        ({"last_name": "x" * 201}, "too long"),
        ({"birth_date": "31/02/2000"}, "impossible date"),
        ({"birth_date": "yesterday"}, "unreadable date"),
    ],
)
def test_bad_identity_refused(fields, message):
    with pytest.raises(RecordError, match=message):
        tags.normalise_identity(fields)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_normalisation_is_idempotent(text):
    once = tags.normalise_text(text)
    assert tags.normalise_text(once) == once


def test_seal_and_open(enrolled):
    e = enrolled.election
    tag = tags.voter_tag(enrolled.voter_key, {"last_name": "Martin"})
    sealed = tags.seal_tag(e.central_key, tag, e.id)
    assert len(sealed) == 160 and sealed == sealed.lower()
    assert sealed != tags.seal_tag(e.central_key, tag, e.id)  # fresh each time: unlinkable
    assert tags.open_tag(enrolled.central_key, sealed, e.id) == tag
    with pytest.raises(SealError, match="cannot open"):
        tags.open_tag(enrolled.central_key, sealed, "0" * 64)
    with pytest.raises(SealError, match="wrong length"):
        tags.open_tag(enrolled.central_key, sealed[:-2], e.id)


def test_election_keys_are_distinct_purposes():
    voter, receipt = tags.election_keys(b"\5" * 32)
    assert voter != receipt and len(voter) == len(receipt) == 32


def test_receipt_code_shape_and_parsing():
    ballot = random.Random(1).randbytes(16).hex()
    code = tags.receipt_code(KEY, ballot)
    assert len(code) == 11 and code[5] == "-"
    assert set(code.replace("-", "")) <= set(tags.CROCKFORD)
    assert code == tags.receipt_code(KEY, ballot)
    assert code != tags.receipt_code(b"\1" * 32, ballot)
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert tags.parse_receipt_code(typed) == code
    with pytest.raises(RecordError, match="not a receipt code"):
        tags.parse_receipt_code("ABCDE-FGHIU")
