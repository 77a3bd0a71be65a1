"""Exceptions of the trust core; each carries its evidence as attributes."""


class UrneError(Exception):
    """Base of every error the trust core raises on purpose."""

    def __init__(self, message, *, where=None, expected=None, got=None):
        self.where = where
        self.expected = expected
        self.got = got
        detail = message
        if expected is not None or got is not None:
            detail = f"{message}: expected {expected}, got {got}"
        if where:
            detail = f"{where}: {detail}"
        super().__init__(detail)


class CanonicalError(UrneError):
    """Bytes or values outside the canonical JSON subset."""


class SignatureError(UrneError):
    """A signature does not verify under the expected key and domain."""


class KeyFileError(UrneError):
    """A key file is missing, unreadable or has unsafe permissions."""


class ElectionError(UrneError):
    """An election source or package is invalid."""


class SelectionError(UrneError):
    """A ballot's selections break its section's rule."""


class EnrollmentError(UrneError):
    """A device certificate, request or revocation is invalid."""


class RevokedError(EnrollmentError):
    """The device (and epoch) is on the authority's revocation list."""


class RecordError(UrneError):
    """A record is malformed or does not match its context."""


class ChainError(RecordError):
    """A device chain has a gap, a fork or a broken link."""


class SealError(UrneError):
    """A sealed voter tag cannot be opened."""


class BundleError(UrneError):
    """A bundle file is malformed, unsafe or inconsistent."""


class ConflictError(UrneError):
    """Different bytes under an identity already stored (a fork or a replaced record)."""


class TallyError(UrneError):
    """A tally input is invalid or a rule cannot be applied."""


class PabulibError(TallyError):
    """A Pabulib .pb file cannot be parsed."""


class PushError(UrneError):
    """A signed push request is malformed, stale, replayed or does not match its body."""
