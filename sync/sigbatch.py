"""Verifying the signatures of a block of record lines together, after parsing them."""

from contextlib import contextmanager

from cryptography.exceptions import InvalidSignature

from .bundle import RECORDS
from .errors import SignatureError, UrneError


class SignatureBatch:
    """The signatures of hot-path lines (fast_unsigned), verified together by `flush`.

    The central's import verifies a block's signatures in one loop after parsing its lines: 2 to
    5 % less time per record than verifying each line as it is parsed, likely because the two
    loops stop evicting each other from the CPU's caches (docs/benchmarks.md, import). The first
    error stays the first: a later line's error is raised only once the earlier lines' signatures
    are verified (`flushing`), and a bad signature raises what the full path raises for its line.
    """

    def __init__(self, checker, full):
        self._verify = checker.public.verify
        self._full = full  # full(number, line): the line's full path, which raises its error
        self._pending = []

    def add(self, number, line, signature, message):
        """Keep a parsed line whose signature is still to verify."""
        self._pending.append((number, line, signature, message))

    def flush(self):
        """Verify every kept signature, in line order; raise the first bad one's error."""
        pending, self._pending = self._pending, []
        verify = self._verify
        for number, line, signature, message in pending:
            try:
                verify(signature, message)
            except InvalidSignature:
                self._full(number, line)
                raise SignatureError(
                    "bad urne/1/record signature", where=f"{RECORDS}:{number}"
                ) from None

    @contextmanager
    def flushing(self):
        """Around the lines: a later line's error waits for the earlier signatures' error, if any."""
        try:
            yield self
        except UrneError:
            self.flush()
            raise
        self.flush()
