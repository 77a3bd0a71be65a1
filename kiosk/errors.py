"""Exceptions of the kiosk; each carries its evidence as attributes.

The web pages and the command line catch `KioskError` (and the trust core's `UrneError`) and show
the message: every message says what went wrong in words an agent can act on.
"""

from sync.errors import UrneError


class KioskError(UrneError):
    """Base of the kiosk's own errors."""


class NotSetUp(KioskError):
    """The folder is not a kiosk yet, or a step of its set-up is missing (e.g. no certificate)."""


class StoreFailed(KioskError):
    """SQLite refused a write (disk full, I/O error, a constraint): nothing of it was stored."""


class StoreCorrupt(KioskError):
    """The database fails SQLite's integrity check or is from a newer, unknown schema."""


class ChainBroken(KioskError):
    """The stored chain does not re-verify (signature, link, head or voter-tag count)."""

    def __init__(self, message, *, seq=None, where=None, expected=None, got=None):
        self.seq = seq
        super().__init__(message, where=where, expected=expected, got=got)


class Ineligible(KioskError):
    """The resident may not vote here; `code` is stable, `reason` is plain words to show."""

    def __init__(self, code, reason, *, where=None, expected=None, got=None):
        self.code = code
        self.reason = reason
        super().__init__(reason, where=where, expected=expected, got=got)


class AlreadyVoted(KioskError):
    """The resident's voter tag is already in this device's set."""

    def __init__(self, message="you have already voted at this stand"):
        super().__init__(message)


class StandClosed(KioskError):
    """No session is open, so no ballot can be cast."""


class SessionError(KioskError):
    """A session cannot be opened or closed in the current state (e.g. already open)."""


class VoidRefused(KioskError):
    """The last ballot cannot be voided (none, already voided, or past the window)."""


class NothingToExport(KioskError):
    """No record has been written since the last export."""


class ExportError(KioskError):
    """The destination is unusable or the bundle read back does not verify."""


class PinError(KioskError):
    """Base of the agent PIN's refusals."""


class WrongPin(PinError):
    """The PIN does not match; `remaining` tries are left before a lockout."""

    def __init__(self, remaining):
        self.remaining = remaining
        super().__init__("wrong PIN", got=f"{remaining} tries left before a lockout")


class PinLocked(PinError):
    """Too many wrong PINs: no try is checked before `until` (`retry_after` seconds from now)."""

    def __init__(self, until, retry_after):
        self.until = until
        self.retry_after = retry_after
        super().__init__(
            f"too many wrong PINs; try again in {retry_after} seconds",
            expected=f"no try before {until.isoformat()}",
        )
