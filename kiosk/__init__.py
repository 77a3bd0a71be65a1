"""The offline voting station (Flask): resident flow, agent mode, durable signed storage."""

import importlib
import importlib.util
import sqlite3
from pathlib import Path

from flask import current_app, jsonify, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup

from kiosk.errors import KioskError
from sync.errors import UrneError
from web.security import read_secret_key

csrf = CSRFProtect()

# Endpoints that still answer when the stand cannot open (to say why, and for the smoke test).
ALWAYS_OPEN = {"static", "healthz"}
# Agent pages let through then: the agent must see why, in plain words (resident pages stay shut).
AGENT_WHEN_UNAVAILABLE = {"agent.login", "agent.logout", "agent.home"}


class StoreUnavailable(KioskError):
    """The stand could not open its store; the page asking for it shows why instead."""


def init_app(app):
    """Configure the kiosk app: secret, CSRF, languages, headers, store, blueprints."""
    from kiosk import i18n, security
    from kiosk.flow import Flows

    home = Path(app.config["HOME"])
    app.secret_key = read_secret_key(home, "kiosk")
    app.config.setdefault("WTF_CSRF_ENABLED", True)
    ext = app.extensions.setdefault("urne_kiosk", {})
    ext["flows"] = Flows(int(app.config["IDLE_SECONDS"]))
    ext["store"], ext["error"], ext["problem"] = _open_store(app, home)
    # Registered before CSRF's own hook: a stand that cannot open says so to every request.
    app.before_request(_refuse_when_unavailable)
    csrf.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.context_processor(_shell_context)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(StoreUnavailable, _store_unavailable)
    for code in (400, 403, 404, 405, 413, 500):
        app.register_error_handler(code, _http_error)

    from kiosk import resident

    app.register_blueprint(resident.bp)
    from kiosk import pairing

    pairing.init_app(app)
    # The agent pages are another module; the resident side runs without them.
    if importlib.util.find_spec("kiosk.agent") is not None:
        app.register_blueprint(importlib.import_module("kiosk.agent").bp)


def _open_store(app, home):
    """Open the kiosk store and check it; on failure keep the reason to show on every page."""
    try:
        from kiosk.store import KioskStore

        clock = app.config.get("CLOCK")  # tests inject the device clock (see kiosk/clock.py)
        store = KioskStore.open(home, now=clock() if clock else None)
    except (UrneError, OSError, sqlite3.Error, ImportError) as exc:
        app.logger.error("the stand cannot open: %s", exc)
        return None, str(exc), _problem_kind(exc)
    return store, None, None


def _problem_kind(exc):
    """A short key of what went wrong, which kiosk/texts.py says in plain words."""
    from kiosk import errors as kerr
    from sync import errors as serr

    kinds = [
        (kerr.NotSetUp, "not_set_up"),
        ((kerr.ChainBroken, serr.RecordError, serr.SignatureError), "records"),
        ((kerr.StoreCorrupt, sqlite3.Error), "database"),
        (serr.KeyFileError, "keys"),
        (serr.EnrollmentError, "enrolment"),
        (serr.ElectionError, "election"),
        (OSError, "disk"),
    ]
    return next((kind for cls, kind in kinds if isinstance(exc, cls)), "other")


def store_problem():
    """Why the stand cannot open, or None: {"reason": plain words, "detail": the error}."""
    from kiosk.texts import problem_text

    ext = current_app.extensions["urne_kiosk"]
    if ext["error"] is None:
        return None
    return {"reason": problem_text(ext["problem"]), "detail": ext["error"]}


def current_store():
    """The open KioskStore of this app; StoreUnavailable (its page says why) when none opened."""
    ext = current_app.extensions["urne_kiosk"]
    if ext["store"] is None:
        raise StoreUnavailable(f"the stand cannot open: {ext['error']}")
    return ext["store"]


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
    if error is None or request.endpoint in ALWAYS_OPEN | AGENT_WHEN_UNAVAILABLE:
        return None
    return _unavailable_page()


def _unavailable_page():
    return render_template("errors/unavailable.html", problem=store_problem()), 503


def _store_unavailable(exc):
    return _unavailable_page()


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
        "agent_login_url": url_for("agent.login")
        if "agent.login" in current_app.view_functions
        else None,
        "store_problem": store_problem() if ext["error"] is not None else None,
    }


def _csrf_error(exc):
    return render_template("errors/error.html", code=400, reason="csrf"), 400


def _http_error(exc):
    code = getattr(exc, "code", 500) or 500
    return render_template("errors/error.html", code=code, reason=None), code
