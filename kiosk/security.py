"""Security of the kiosk's pages: the shared headers (web.security), no caching of flow pages."""

from web.security import CSP, HEADERS, NO_STORE, install_headers, strict_session_cookies

__all__ = ["CSP", "HEADERS", "NO_STORE", "init_app"]


def init_app(app):
    """Strict session cookies and the header hook (every page but static files is no-store)."""
    strict_session_cookies(app)
    # The back button must never show a previous resident's identity or choices.
    install_headers(app, no_store=True)
