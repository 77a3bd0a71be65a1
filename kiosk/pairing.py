"""Pairing of tablets with a kiosk (signed, expiring one-time tokens). Owned by the deploy work."""


def init_app(app):
    """Register pairing routes and the guard on resident pages (not built yet)."""
