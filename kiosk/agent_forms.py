"""Reading the agent's forms: clock confirmation, void reason, export destination (no Flask)."""

import re
import unicodedata
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync.errors import UrneError

# Typed in text fields, never the browser's date and time widgets (they follow its locale, so
# an en-US browser shows 11/26/2026 and 11:55 AM): the year's place says the order, and the
# day comes before the month as in France.
SEP = r"\s*[-/. ]\s*"
DATE_ISO_RE = re.compile(rf"(\d{{4}}){SEP}(\d{{1,2}}){SEP}(\d{{1,2}})")
DATE_DMY_RE = re.compile(rf"(\d{{1,2}}){SEP}(\d{{1,2}}){SEP}(\d{{4}})")
TIME_RE = re.compile(r"(\d{1,2})\s*[:hH.]\s*(\d{2})")
# The same, as HTML `pattern` attributes (a hint only: the forms are novalidate).
DATE_PATTERN = r"\s*(\d{4}[\-\/. ]\d{1,2}[\-\/. ]\d{1,2}|\d{1,2}[\-\/. ]\d{1,2}[\-\/. ]\d{4})\s*"
TIME_PATTERN = r"\s*\d{1,2}\s*[:hH.]\s*\d{2}\s*"
REASON_MIN, REASON_MAX = 3, 200
# Before this, a Pi without a real-time clock has surely not been set (it boots at 1970 or at
# the last shutdown); the agent must type the time rather than confirm it.
EARLIEST = datetime(2024, 1, 1, tzinfo=UTC)


class FormError(UrneError):
    """A field of an agent form is not acceptable; `field` names it for the page."""

    def __init__(self, field, message, *, expected=None, got=None):
        self.field = field
        super().__init__(message, where=field, expected=expected, got=got)


def zone(name):
    """The time zone the stand's agent reads clocks in (e.g. Europe/Paris)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise FormError(
            "TIMEZONE", "unknown time zone", expected="e.g. Europe/Paris", got=name
        ) from exc


def local_fields(now, tz):
    """The date and time fields (YYYY-MM-DD, HH:MM) showing an aware datetime in a zone."""
    local = now.astimezone(tz)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M")


def plausible(now):
    """Whether a device clock may be right (not before the software was written)."""
    return now >= EARLIEST


def _ymd(date_text):
    if m := DATE_ISO_RE.fullmatch(date_text):
        return int(m[1]), int(m[2]), int(m[3])
    if m := DATE_DMY_RE.fullmatch(date_text):
        return int(m[3]), int(m[2]), int(m[1])
    raise FormError(
        "date", "date not understood", expected="YYYY-MM-DD or DD/MM/YYYY", got=date_text[:20]
    )


def parse_clock(date_text, time_text, tz):
    """The aware UTC datetime the agent typed as a local date and time, or FormError."""
    date_text = (date_text or "").strip()
    time_text = (time_text or "").strip()
    year, month, day = _ymd(date_text)
    if not (m := TIME_RE.fullmatch(time_text)) or int(m[1]) > 23 or int(m[2]) > 59:
        raise FormError("time", "time not understood", expected="HH:MM", got=time_text[:20])
    try:
        local = datetime(year, month, day, int(m[1]), int(m[2]))
    except ValueError as exc:
        raise FormError("date", "no such date", expected="a real date", got=date_text) from exc
    when = local.replace(tzinfo=tz).astimezone(UTC)
    if not plausible(when):
        raise FormError("date", "date too early", expected=f">= {EARLIEST:%Y-%m-%d}", got=date_text)
    return when


def parse_reason(text):
    """A void reason: NFC, single-line, 3 to 200 characters."""
    reason = unicodedata.normalize("NFC", " ".join((text or "").split()))
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise FormError(
            "reason",
            "reason length",
            expected=f"{REASON_MIN} to {REASON_MAX} characters",
            got=len(reason),
        )
    if any(unicodedata.category(c).startswith("C") for c in reason):
        raise FormError("reason", "control character in reason", expected="plain text")
    return reason


def pick_drive(drives, choice):
    """The drive whose path the agent picked among those offered, or FormError."""
    for drive in drives:
        if str(drive.path) == choice:
            if not drive.writable:
                raise FormError(
                    "drive", "drive not writable", expected="a writable drive", got=choice
                )
            return drive
    raise FormError("drive", "no such drive", expected="one of the drives listed", got=choice)


def group_hash(value, size=4):
    """A hex hash cut into groups of four, easy to copy by hand onto paper."""
    return " ".join(value[i : i + size] for i in range(0, len(value), size))
