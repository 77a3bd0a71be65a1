"""kiosk/agent_forms.py: reading the agent's clock, reason and drive fields."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kiosk.agent_forms import (
    FormError,
    group_hash,
    local_fields,
    parse_clock,
    parse_reason,
    pick_drive,
    plausible,
    zone,
)
from kiosk.usb import Drive

PARIS = ZoneInfo("Europe/Paris")


@given(
    st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from(["Europe/Paris", "Indian/Reunion", "America/Cayenne", "Pacific/Noumea"]),
)
def test_the_fields_shown_read_back_as_the_same_minute(moment, tz_name):
    tz = ZoneInfo(tz_name)
    local = moment.astimezone(tz)
    # The hour repeated when clocks go back is ambiguous on a wall clock; no stand opens then.
    assume(local.replace(fold=1).utcoffset() == local.replace(fold=0).utcoffset())
    date, time = local_fields(moment, tz)
    assert parse_clock(date, time, tz) == moment.replace(second=0, microsecond=0)


def test_a_typed_local_time_is_read_in_the_stand_time_zone():
    assert parse_clock("2026-05-16", "09:30", PARIS) == datetime(2026, 5, 16, 7, 30, tzinfo=UTC)
    assert parse_clock(" 2026-12-01 ", "18:05", PARIS) == datetime(2026, 12, 1, 17, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "date, time",
    [
        ("2026-05-16", "09:30"),
        ("16/05/2026", "9h30"),
        ("16.5.2026", "09.30"),
        (" 16 / 05 / 2026 ", "9 h 30"),
    ],
)
def test_the_date_is_read_day_first_or_year_first_never_month_first(date, time):
    assert parse_clock(date, time, PARIS) == datetime(2026, 5, 16, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "date, time, field",
    [
        ("", "09:30", "date"),
        ("05/16/2026", "09:30", "date"),  # month first (en-US): there is no 16th month
        ("16/05/26", "09:30", "date"),  # a two-digit year would be a guess
        ("2026-02-30", "09:30", "date"),
        ("2026-05-16", "9:30 AM", "time"),
        ("2026-05-16", "24:00", "time"),
        ("2026-05-16", "09:60", "time"),
        ("1970-01-01", "00:00", "date"),
    ],
)
def test_bad_dates_and_times_name_their_field(date, time, field):
    with pytest.raises(FormError) as err:
        parse_clock(date, time, PARIS)
    assert err.value.field == field


def test_a_clock_before_2024_is_not_plausible():
    assert not plausible(datetime(1970, 1, 1, tzinfo=UTC))
    assert plausible(datetime(2026, 5, 16, tzinfo=UTC))


def test_unknown_time_zone_is_a_clear_error():
    assert zone("Europe/Paris") == PARIS
    with pytest.raises(FormError, match="unknown time zone"):
        zone("Mars/Olympus")


def test_reasons_are_single_line_nfc_and_bounded():
    assert parse_reason("  a changé\n d'avis ") == "a changé d'avis"
    assert parse_reason("e\u0301lu") == "\u00e9lu"
    for bad in ("", "ab", "x" * 201, "ok\u200bok\u0007"):
        with pytest.raises(FormError):
            parse_reason(bad)


def test_only_a_listed_writable_drive_can_be_picked():
    drives = [Drive(Path("/media/usb"), "usb", 10, True), Drive(Path("/media/ro"), "ro", 10, False)]
    assert pick_drive(drives, "/media/usb").label == "usb"
    with pytest.raises(FormError, match="not writable"):
        pick_drive(drives, "/media/ro")
    with pytest.raises(FormError, match="no such drive"):
        pick_drive(drives, "/etc")


def test_hashes_are_grouped_by_four_for_copying():
    assert group_hash("0123456789abcdef") == "0123 4567 89ab cdef"
    assert group_hash("a" * 64).count(" ") == 15
    assert group_hash("") == ""


def test_a_day_of_clock_changes_still_reads_back():
    # 29 March 2026: 02:00 does not exist in Paris; 03:00 is the first hour of summer time.
    assert parse_clock("2026-03-29", "03:00", PARIS) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert parse_clock("2026-03-29", "01:59", PARIS) + timedelta(minutes=1) == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )
