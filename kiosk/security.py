"""Security headers of every kiosk response: CSP without inline code, no caching of flow pages."""

# No inline script or style anywhere (no `style=` attributes either): everything comes from
# static files of this host, so an injected fragment cannot run or restyle the ballot.
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


def add_headers(response):
    """Set the fixed security headers; forbid caching of everything but static assets."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    from flask import request

    if request.endpoint != "static":
        # The back button must never show a previous resident's identity or choices.
        response.headers["Cache-Control"] = "no-store, max-age=0"
        response.headers["Pragma"] = "no-cache"
        response.headers["Expires"] = "0"
    return response


def init_app(app):
    """Register the header hook."""
    app.after_request(add_headers)
