"""The agent's plain words (kiosk/agent_texts.py), rendered by the real app's translations."""

import pytest

from kiosk import agent_texts
from kiosk.push import SyncRefused

GENERIC = "The central server answered with an error: export to a USB drive."


@pytest.fixture
def texts(app):
    with app.test_request_context("/agent/"):
        yield agent_texts


def test_a_closed_central_gets_its_own_plain_message(texts):
    closed = texts.sync_text(SyncRefused(409, {"error": "closed", "message": "purged"}))
    generic = texts.sync_text(SyncRefused(409, {"error": "something-new"}))
    assert closed != generic
    assert "closed" in closed or "fermée" in closed
    assert "USB" in closed and "organiser" not in closed


@pytest.mark.parametrize(
    "remaining, word", [(1, r"\b1 (try|essai)\b"), (3, r"\b3 (tries|essais)\b")]
)
def test_the_tries_left_agree_in_number(texts, remaining, word):
    import re

    assert re.search(word, texts.wrong_pin_text(remaining))


def test_a_lockout_says_whether_this_try_was_wrong(texts):
    wrong = texts.pin_locked_text(120, wrong=True)
    unchecked = texts.pin_locked_text(120)
    assert wrong != unchecked and "2 minutes" in wrong and "2 minutes" in unchecked
