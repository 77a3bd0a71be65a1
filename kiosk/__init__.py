"""The offline voting station (Flask): resident flow, agent mode, durable signed storage."""

import importlib
import importlib.util
import sqlite3
from pathlib import Path

from flask import current_app, jsonify, render_template, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup

from sync.errors import UrneError

csrf = CSRFProtect()

# Endpoints that still answer when the stand cannot open (to say why, and for the smoke test).
ALWAYS_OPEN = {"static", "healthz"}


def init_app(app):
    """Configure the kiosk app: secret, CSRF, languages, headers, store, blueprints."""
    from kiosk import i18n, security
    from kiosk.flow import Flows

    home = Path(app.config["HOME"])
    app.secret_key = _read_secret_key(home)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Strict"
    app.config.setdefault("WTF_CSRF_ENABLED", True)
    ext = app.extensions.setdefault("urne_kiosk", {})
    ext["flows"] = Flows(int(app.config["IDLE_SECONDS"]))
    ext["store"], ext["error"] = _open_store(app, home)
    # Registered before CSRF's own hook: a stand that cannot open says so to every request.
    app.before_request(_refuse_when_unavailable)
    csrf.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.context_processor(_shell_context)
    app.register_error_handler(CSRFError, _csrf_error)
    for code in (400, 403, 404, 405, 413, 500):
        app.register_error_handler(code, _http_error)

    from kiosk import resident

    app.register_blueprint(resident.bp)
    from kiosk import pairing

    pairing.init_app(app)
    # The agent pages are another module; the resident side runs without them.
    if importlib.util.find_spec("kiosk.agent") is not None:
        app.register_blueprint(importlib.import_module("kiosk.agent").bp)


def _read_secret_key(home):
    path = home / "secret_key"
    try:
        from sync.crypto import read_secret

        secret = read_secret(path)
    except UrneError as exc:
        # Fail closed: without its own secret the kiosk cannot sign sessions or CSRF tokens.
        raise RuntimeError(f"cannot start the kiosk: {exc} (run `urne kiosk init`)") from exc
    if len(secret) < 16:
        raise RuntimeError(f"cannot start the kiosk: {path} holds {len(secret)} bytes, expected 32")
    return secret


def _open_store(app, home):
    """Open the kiosk store and check it; on failure keep the reason to show on every page."""
    try:
        from kiosk.store import KioskStore

        clock = app.config.get("CLOCK")  # tests inject the device clock (see kiosk/clock.py)
        store = KioskStore.open(home, now=clock() if clock else None)
    except (UrneError, OSError, sqlite3.Error, ImportError) as exc:
        app.logger.error("the stand cannot open: %s", exc)
        return None, str(exc)
    return store, None


def current_store():
    """The open KioskStore of this app."""
    return current_app.extensions["urne_kiosk"]["store"]


def current_flows():
    """The in-memory flow states of this app."""
    return current_app.extensions["urne_kiosk"]["flows"]


def healthz():
    """Liveness and store state as JSON, for the deploy smoke test."""
    ext = current_app.extensions["urne_kiosk"]
    body = {"role": "kiosk", "ok": ext["error"] is None}
    if ext["error"] is not None:
        body["error"] = ext["error"]
    return jsonify(body), 200 if body["ok"] else 503


def _refuse_when_unavailable():
    error = current_app.extensions["urne_kiosk"]["error"]
    if error is not None and request.endpoint not in ALWAYS_OPEN:
        return render_template("errors/unavailable.html", reason=error), 503
    return None


def _shell_context():
    from kiosk.i18n import current_lang

    ext = current_app.extensions["urne_kiosk"]
    election = ext["store"].election if ext["store"] is not None else None
    lang = current_lang()

    def text_lang(value):
        # Election texts fall back to the election's first language: say so to screen readers.
        if election is None or not isinstance(value, dict) or value.get(lang):
            return lang
        return election.languages[0]

    def elang(value):
        """` lang="xx"` for an element holding `value` when it is not in the page's language."""
        code = text_lang(value)
        return Markup(' lang="{}"').format(code) if code != lang else Markup("")

    def etext(value):
        """An election text in the page's language, or marked with the language it falls back to."""
        text = election.text(value, lang) if election else ""
        code = text_lang(value)
        return Markup('<span lang="{}">{}</span>').format(code, text) if code != lang else text

    return {
        "lang": lang,
        "election": election,
        "elang": elang,
        "etext": etext,
        "election_title": election.text(election.title, lang) if election else "",
        "ui_text": session.get("text_size", "normal"),
        "ui_contrast": session.get("contrast", "normal"),
        "idle_seconds": current_app.config["IDLE_SECONDS"],
        "idle_warning_seconds": current_app.config["IDLE_WARNING_SECONDS"],
    }


def _csrf_error(exc):
    return render_template("errors/error.html", code=400, reason="csrf"), 400


def _http_error(exc):
    code = getattr(exc, "code", 500) or 500
    return render_template("errors/error.html", code=code, reason=None), code
