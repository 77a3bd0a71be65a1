"""Security headers, session cookies and the session secret shared by the kiosk and the central."""

from pathlib import Path

from flask import request

from sync.errors import UrneError

# No inline script or style anywhere (not even `style=` attributes): everything comes from
# static files of this host, so an injected fragment can neither run nor restyle a page.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}

# The back button must never show a previous resident's identity or an organiser's page.
NO_STORE = {"Cache-Control": "no-store, max-age=0", "Pragma": "no-cache", "Expires": "0"}


def _wants_no_store(no_store):
    if no_store is True:
        return request.endpoint != "static"
    if no_store:
        return request.path.startswith(tuple(no_store))
    return False


def install_headers(app, *, no_store):
    """Set HEADERS on every response; NO_STORE on every non-static page (True) or on path prefixes.

    Pages that are not no-store (and not static files) get `Cache-Control: no-cache`.
    """

    def add_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if _wants_no_store(no_store):
            response.headers.update(NO_STORE)
        elif request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-cache")
        return response

    app.after_request(add_headers)
    return add_headers


def strict_session_cookies(app):
    """Session cookie: HttpOnly, SameSite=Strict, and Secure when config SECURE_COOKIES is set."""
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Strict"
    if app.config.get("SECURE_COOKIES"):
        app.config["SESSION_COOKIE_SECURE"] = True


def read_secret_key(home, role):
    """The Flask session secret in `home`/secret_key; RuntimeError (fail closed) when unusable.

    `role` is "kiosk" or "central": it names the app and its `urne <role> init` in the message.
    """
    from sync.crypto import read_secret

    path = Path(home) / "secret_key"
    try:
        secret = read_secret(path)
    except UrneError as exc:
        # Without its own secret an app cannot sign sessions or CSRF tokens: refuse to start.
        raise RuntimeError(f"cannot start the {role}: {exc} (run `urne {role} init`)") from exc
    if len(secret) < 16:
        raise RuntimeError(
            f"cannot start the {role}: {path} holds {len(secret)} bytes, expected 32"
        )
    return secret
