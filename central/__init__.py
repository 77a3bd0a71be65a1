"""The central server's web face: device push endpoint, organiser pages, public results."""

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from sync.errors import UrneError

csrf = CSRFProtect()


@dataclass
class CentralWeb:
    """Per-app state: the folder, the election, the clock and the limiters (security.py)."""

    home: Path
    election: object
    now: object
    revocations_cache: dict = field(default_factory=dict)
    lockout: object = None
    receipt_limit: object = None

    def revocations(self):
        """The installed revocation list (re-read when the file changes), or None."""
        from sync.enroll import read_revocations

        path = self.home / "revocations.urne"
        if not path.exists():
            return None
        stamp = path.stat().st_mtime_ns
        if self.revocations_cache.get("stamp") != stamp:
            value = read_revocations(path.read_bytes(), self.election)
            self.revocations_cache.update(stamp=stamp, value=value)
        return self.revocations_cache["value"]


def init_app(app):
    """Configure the central app: secret, cookies, CSRF, headers, language, blueprints."""
    from central import api, i18n, organiser, public, security
    from sync.election import read_package

    home = Path(app.config["HOME"])
    app.secret_key = security.read_secret_key(home)
    try:
        election = read_package((home / "election.urne").read_bytes())
    except (OSError, UrneError) as exc:
        raise RuntimeError(f"cannot start the central: {exc} (run `urne central init`)") from exc
    now = app.config.get("CENTRAL_NOW") or (lambda: datetime.now(UTC))
    app.extensions["urne_central"] = CentralWeb(home, election, now)
    app.config.setdefault("WTF_CSRF_ENABLED", True)
    security.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app)
    csrf.exempt(api.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(organiser.bp)
    app.register_blueprint(public.bp)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.teardown_appcontext(_close_store)
    app.context_processor(_shell_context)
    app.register_error_handler(CSRFError, _csrf_error)
    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, _http_error)


def web():
    """The CentralWeb of the running app."""
    return current_app.extensions["urne_central"]


def store():
    """This request's CentralStore (one SQLite connection per request, closed at teardown)."""
    if "central_store" not in g:
        from sync.central import CentralStore

        timeout = current_app.config.get("CENTRAL_DB_TIMEOUT")
        g.central_store = CentralStore(web().home, **({"timeout": timeout} if timeout else {}))
    return g.central_store


def central():
    """This request's sync.central_home.Central (store, election, revocations)."""
    from sync.central_home import Central

    w = web()
    return Central(w.home, store(), w.election, w.revocations())


def _close_store(exc):
    s = g.pop("central_store", None)
    if s is not None:
        s.close()


def healthz():
    """Liveness and database state as JSON, for the deploy smoke test."""
    w = web()
    body = {"role": "central", "election": w.election.id, "ok": True}
    try:
        body["devices"] = len(store().devices())
    except (sqlite3.Error, UrneError) as exc:
        body.update(ok=False, error=str(exc))
    return jsonify(body), 200 if body["ok"] else 503


def _shell_context():
    from central.i18n import current_lang
    from central.security import is_organiser

    w, lang = web(), current_lang()
    return {
        "lang": lang,
        "election": w.election,
        "election_title": w.election.text(w.election.title, lang),
        "organiser": is_organiser(),
    }


def _wants_json():
    return request.path.startswith("/api/")


def _csrf_error(exc):
    return render_template("central/error.html", code=400, reason="csrf"), 400


def _http_error(exc):
    code = getattr(exc, "code", 500) or 500
    if _wants_json():
        from central.api import refusal

        codes = {404: "not-found", 405: "not-allowed", 413: "too-large", 500: "internal"}
        return refusal(code, codes.get(code, "bad-request"), str(exc))
    return render_template("central/error.html", code=code, reason=None), code
