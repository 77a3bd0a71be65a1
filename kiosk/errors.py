"""Exceptions of the kiosk; each carries its evidence as attributes."""

from sync.errors import UrneError


class KioskError(UrneError):
    """Base of the kiosk's own errors."""
