"""The kiosk's clock: the system clock, corrected by the time the agent confirmed.

A Raspberry Pi has no real-time clock: after a power cut it boots at the last shutdown's time
(or 1970). The agent confirms or corrects the time when opening the stand; the correction is kept
as an offset in this process's memory (never on disk: the next boot's clock may be wrong by a
different amount, so the agent confirms again). Every page that stamps a time should use now().
"""

from datetime import UTC, datetime, timedelta

from flask import current_app

KEY = "clock"


def system_now():
    """The device's own clock (config CLOCK, a callable returning an aware datetime, in tests)."""
    clock = current_app.config.get("CLOCK")
    value = clock() if clock else datetime.now(UTC)
    if value.tzinfo is None:
        raise ValueError("config CLOCK must return a timezone-aware datetime")
    return value


def _state():
    return current_app.extensions.setdefault("urne_kiosk", {}).setdefault(
        KEY, {"offset": timedelta(0), "confirmed": False}
    )


def now():
    """The kiosk's time: the device clock plus the agent's correction, timezone-aware."""
    return system_now() + _state()["offset"]


def confirm(agent_time):
    """Record the agent's time as right now; return the correction applied to the device clock."""
    offset = timedelta(seconds=round((agent_time - system_now()).total_seconds()))
    state = _state()
    state.update(offset=offset, confirmed=True)
    return offset


def confirmed():
    """Whether an agent has confirmed the time since this process started."""
    return _state()["confirmed"]


def offset():
    """The correction currently applied to the device clock."""
    return _state()["offset"]


def source():
    """The `clock` field of records: "agent" once an agent confirmed the time, else "system"."""
    return "agent" if confirmed() else "system"
