"""The agent PIN: scrypt hash file, lockout with a growing delay that survives a restart."""

import random
import sqlite3
from datetime import datetime, timedelta

import pytest
from sqlite_utils import Database

from kiosk.errors import PinLocked, WrongPin
from kiosk.migrations import migrate
from kiosk.pin import (
    MAX_TRIES,
    hash_pin,
    lock_delay,
    new_pin,
    pin_matches,
    verify_pin,
    write_pin,
)
from sync.errors import KeyFileError

T0 = datetime(2026, 5, 1, 9, 0)


@pytest.fixture
def pin_home(tmp_path):
    write_pin(tmp_path, "482913")
    db = Database(sqlite3.connect(tmp_path / "kiosk.db"))
    migrate(db)
    return tmp_path, db


def _reopen(home):
    return Database(sqlite3.connect(home / "kiosk.db"))


def test_pin_file_holds_only_a_scrypt_hash_mode_0600(tmp_path):
    path = write_pin(tmp_path, "482913")
    text = path.read_text()
    assert text.startswith("scrypt$") and "482913" not in text
    assert path.stat().st_mode & 0o777 == 0o600
    assert pin_matches("482913", text) and not pin_matches("482914", text)


def test_new_pin_is_six_digits_and_injectable():
    assert new_pin(rng=random.Random(7)) == new_pin(rng=random.Random(7))
    pin = new_pin()
    assert len(pin) == 6 and pin.isdigit()


def test_the_right_pin_passes_and_resets_the_counter(pin_home):
    home, db = pin_home
    with pytest.raises(WrongPin) as info:
        verify_pin(db, home, "000000", now=T0)
    assert info.value.remaining == MAX_TRIES - 1
    verify_pin(db, home, "482913", now=T0)
    assert db.execute("SELECT failures FROM pin_state").fetchone()[0] == 0


def test_five_wrong_tries_lock_even_the_right_pin_across_a_restart(pin_home):
    home, db = pin_home
    for i in range(MAX_TRIES - 1):
        with pytest.raises(WrongPin):
            verify_pin(db, home, f"00000{i}", now=T0)
    with pytest.raises(PinLocked) as info:
        verify_pin(db, home, "000009", now=T0)
    assert info.value.retry_after == lock_delay(MAX_TRIES) == 30
    db.close()
    db = _reopen(home)  # a restart does not reset the lockout
    with pytest.raises(PinLocked):
        verify_pin(db, home, "482913", now=T0 + timedelta(seconds=29))
    # After the delay one more wrong try doubles it.
    with pytest.raises(PinLocked) as info:
        verify_pin(db, home, "111111", now=T0 + timedelta(seconds=31))
    assert info.value.retry_after == 60
    verify_pin(db, home, "482913", now=T0 + timedelta(seconds=92))


def test_delay_grows_then_caps():
    assert [lock_delay(n) for n in (4, 5, 6, 7)] == [0, 30, 60, 120]
    assert lock_delay(40) == 3600


def test_a_readable_pin_file_is_refused(pin_home):
    home, db = pin_home
    (home / "agent.pin").chmod(0o644)
    with pytest.raises(KeyFileError, match="readable by others"):
        verify_pin(db, home, "482913", now=T0)


def test_hash_refuses_a_non_numeric_pin():
    with pytest.raises(ValueError, match="4 to 12 digits"):
        hash_pin("abcd")
