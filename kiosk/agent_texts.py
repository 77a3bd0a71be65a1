"""Plain words for the agent: lockouts, refusals, export failures and the central's answers."""

from flask_babel import gettext as _
from flask_babel import ngettext

from kiosk import push as pushing
from kiosk.errors import NothingToExport, StandClosed

# The store's VoidRefused messages (kiosk/store.py), said to the agent in their language.
VOID_REASONS = {
    "no ballot to void": lambda: _("There is no ballot to void."),
    "the last ballot is already voided": lambda: _("The last ballot is already void."),
    "the last ballot was not cast since this kiosk started": lambda: _(
        "The last ballot was recorded before the kiosk restarted: it can no longer be voided."
    ),
    "too late to void the last ballot": lambda: _(
        "It is too late: a ballot can only be voided within a few minutes of being recorded."
    ),
}

# The central's error codes (docs/sync-protocol.md) in the agent's words.
SYNC_REFUSALS = {
    "stale-time": lambda: _(
        "The stand's clock is wrong: correct the date and time, then try again."
    ),
    "unknown-device": lambda: _(
        "The central server does not recognise this stand: export to a USB drive and tell the organiser."
    ),
    "revoked": lambda: _(
        "The central server does not recognise this stand: export to a USB drive and tell the organiser."
    ),
    "bad-signature": lambda: _(
        "The central server does not recognise this stand: export to a USB drive and tell the organiser."
    ),
    "fork": lambda: _(
        "The central server refused this stand's ballots: export to a USB drive and tell the organiser."
    ),
    "bad-bundle": lambda: _(
        "The central server refused this stand's ballots: export to a USB drive and tell the organiser."
    ),
    "closed": lambda: _(
        "The central server is closed, the results are final: keep the export on a USB drive."
    ),
}


def wrong_pin_text(remaining):
    """A wrong PIN, and how many tries are left before a lockout."""
    return ngettext(
        "Wrong PIN. %(num)s try left before the PIN is locked for a while.",
        "Wrong PIN. %(num)s tries left before the PIN is locked for a while.",
        remaining,
    )


def pin_locked_text(retry_after, *, wrong=False):
    """How long the PIN stays locked (whole minutes past one); `wrong`: this try was checked."""
    if retry_after < 60:
        wait = ngettext("%(num)s second", "%(num)s seconds", retry_after)
    else:
        minutes = -(-retry_after // 60)
        wait = ngettext("%(num)s minute", "%(num)s minutes", minutes)
    if wrong:  # this very try was wrong and started the lockout: say both
        return _("Wrong PIN. The PIN is locked: try again in %(wait)s.", wait=wait)
    return _("Too many wrong PINs. The PIN is locked: try again in %(wait)s.", wait=wait)


def refusal(exc, eligibility):
    """Why a paper ballot's voter may not vote here, as the resident's pages say it."""
    from kiosk.resident import REFUSALS

    text = REFUSALS.get(exc.code)
    return text(eligibility) if text else _("This person cannot take part in this vote here.")


def void_refused(exc):
    """Why the last ballot cannot be voided."""
    if isinstance(exc, StandClosed):
        return _("The stand is not open: there is no ballot of this session to void.")
    for start, text in VOID_REASONS.items():
        if str(exc).startswith(start):
            return text()
    return _("The last ballot cannot be voided: %(why)s", why=str(exc))


def export_error(exc):
    """What went wrong with an export, with the technical detail for the support line."""
    return _(
        "The export FAILED; nothing on the kiosk was lost. Try another drive. Detail: %(why)s",
        why=str(exc),
    )


def sync_text(outcome):
    """The central's answer (a PushAnswer) or the failure to reach it, in plain words."""
    if isinstance(outcome, pushing.PushAnswer):
        if outcome.status == "already-present" or outcome.new == 0:
            return _("The central server already had everything: nothing new to send.")
        return ngettext(
            "Sync done: the central server received %(num)s new record.",
            "Sync done: the central server received %(num)s new records.",
            outcome.new,
        )
    if isinstance(outcome, pushing.SyncOffline):
        return _("No network: export to a USB drive.")
    if isinstance(outcome, NothingToExport):
        return _("Nothing to send yet: no record on this kiosk.")
    if isinstance(outcome, pushing.SyncRefused):
        text = SYNC_REFUSALS.get(outcome.code)
        if text:
            return text()
        return _("The central server answered with an error: export to a USB drive.")
    if isinstance(outcome, pushing.SyncError) and "address" in str(outcome):
        return _(
            "The central server's address is not valid: export to a USB drive and tell the organiser."
        )
    return _("The sync did not work: export to a USB drive. Detail: %(why)s", why=str(outcome))


def size(n_bytes):
    """A size in the agent's language, e.g. 12.3 GB (French catalogues say Go)."""
    from babel.numbers import format_decimal

    from kiosk.i18n import current_lang

    for unit, scale in (("GB", 10**9), ("MB", 10**6)):
        if n_bytes >= scale:
            number = format_decimal(round(n_bytes / scale, 1), locale=current_lang())
            return _("%(n)s GB", n=number) if unit == "GB" else _("%(n)s MB", n=number)
    return _("%(n)s KB", n=format_decimal(-(-n_bytes // 1000), locale=current_lang()))
