"""Security of the central's pages: headers, session secret, organiser login, lockout, rate limits."""

import time
from collections import deque
from functools import wraps
from pathlib import Path

from flask import current_app, redirect, request, session, url_for

from sync.central_home import PASSWORD_FILE, password_matches
from web import security as web_security

# Public pages may be cached briefly; organiser pages and the API never.
PRIVATE_PREFIXES = ("/organisateur", "/api/", "/recu")
SESSION_SECONDS = 8 * 3600


def read_secret_key(home):
    """The Flask session secret of this central; RuntimeError (fail closed) when unusable."""
    return web_security.read_secret_key(home, "central")


class RateLimit:
    """At most `limit` events per `seconds` per key (sliding window); clock injectable."""

    def __init__(self, limit, seconds, *, clock=time.monotonic):
        self.limit, self.seconds, self.clock = limit, seconds, clock
        self.events = {}

    def allow(self, key):
        """Record an attempt by key; False when the key is over its limit (then not recorded)."""
        now = self.clock()
        q = self.events.setdefault(key, deque())
        while q and q[0] <= now - self.seconds:
            q.popleft()
        if len(q) >= self.limit:
            return False
        q.append(now)
        # Forget idle keys so a scan of many addresses cannot grow memory without bound.
        if len(self.events) > 10_000:
            for k in [k for k, v in self.events.items() if not v or v[-1] <= now - self.seconds]:
                del self.events[k]
        return True


class Lockout:
    """Locks a key (a client address, and everyone together) after repeated login failures."""

    def __init__(self, *, per_key=5, overall=20, seconds=900, clock=time.monotonic):
        self.per_key, self.overall, self.seconds, self.clock = per_key, overall, seconds, clock
        self.failures = {}

    def _recent(self, key):
        now = self.clock()
        kept = [t for t in self.failures.get(key, []) if t > now - self.seconds]
        self.failures[key] = kept
        return kept

    def locked(self, key):
        """Whether logins from this key are refused right now."""
        return len(self._recent(key)) >= self.per_key or len(self._recent("*")) >= self.overall

    def failure(self, key):
        """Count one failed login for this key (and overall)."""
        for k in (key, "*"):
            self._recent(k).append(self.clock())

    def success(self, key):
        """A good password clears this key's failures."""
        self.failures.pop(key, None)


def client_key():
    """The client address requests are limited by (the proxy's, when ProxyFix is configured)."""
    return request.remote_addr or "?"


def check_password(home, password):
    """Whether `password` is the organiser's (hash stored by `urne central init`)."""
    return password_matches(Path(home), password)


def log_in():
    """Start a fresh organiser session (the old session's content is dropped, but the language)."""
    log_out()
    session["organiser"] = True
    session["since"] = int(time.time())


def log_out():
    """Drop everything in the session but the visitor's language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def is_organiser():
    """Whether this request carries a live organiser session."""
    since = session.get("since")
    return (
        bool(session.get("organiser"))
        and isinstance(since, int)
        and (time.time() - since < SESSION_SECONDS)
    )


def organiser_required(view):
    """Send anyone without an organiser session to the login page."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not is_organiser():
            log_out()
            return redirect(url_for("central_organiser.login", next=request.path))
        return view(*args, **kwargs)

    return wrapper


def init_app(app):
    """Cookies, header hook and the limiters of the central."""
    # Behind TLS (nginx in deploy/), URNE_SECURE_COOKIES=true marks the cookie Secure.
    web_security.strict_session_cookies(app)
    # Behind nginx (deploy/), URNE_PROXIES=1 makes request.remote_addr the client's address, so
    # the login lockout and the receipt rate limit count per client, not for everyone at once.
    proxies = int(app.config.get("PROXIES") or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    web_security.install_headers(app, no_store=PRIVATE_PREFIXES)
    clock = app.config.get("CENTRAL_MONOTONIC") or time.monotonic
    ext = app.extensions["urne_central"]
    ext.lockout = Lockout(clock=clock)
    ext.receipt_limit = RateLimit(int(app.config.get("RECEIPT_RATE", 10)), 60, clock=clock)
    if not (Path(app.config["HOME"]) / PASSWORD_FILE).exists():
        app.logger.warning(
            "no organiser password in %s: organiser pages refuse every login", PASSWORD_FILE
        )


def limits():
    """The limiter objects of the running app."""
    return current_app.extensions["urne_central"]
