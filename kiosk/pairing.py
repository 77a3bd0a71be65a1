"""Pairing of tablets with a kiosk: signed, expiring, one-time tokens and a pairing cookie."""

import ipaddress
import secrets
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    has_request_context,
    redirect,
    render_template,
    request,
)
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup

from kiosk.errors import KioskError

TOKEN_SALT = "urne/1/pairing-token"  # noqa: S105 (a salt, not a secret)
COOKIE_SALT = "urne/1/pairing-cookie"
COOKIE_NAME = "urne_pairing"
# Unambiguous capitals and digits (no 0/O, 1/I/L): 31**8 codes, so guessing one in a
# token's lifetime over HTTP is hopeless, yet an agent can read it aloud.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8

DEFAULTS = {
    "PAIRING_REQUIRED": False,
    "PAIRING_TOKEN_SECONDS": 600,
    # A market day: the agent pairs the tablets once in the morning.
    "PAIRING_COOKIE_SECONDS": 16 * 3600,
    # Addresses of the device itself when it listens on the Wi-Fi interface only.
    "PAIRING_TRUSTED_ADDRESSES": [],
    "PAIRING_BASE_URL": None,
    # Paths every browser may reach: pairing itself, assets, the health probe. An entry ending
    # in "/" opens everything under it; any other entry opens that exact path only.
    "PAIRING_OPEN_PATHS": ["/pair", "/pair/", "/static/", "/healthz"],
}

bp = Blueprint("pairing", __name__)


class PairingError(KioskError):
    """A pairing token, code or cookie is refused; `reason` is a stable word the pages explain."""

    REASONS = ("unpaired", "forged", "expired", "used", "unknown", "bad_code", "revoked")

    def __init__(self, reason, message, *, where=None, expected=None, got=None):
        self.reason = reason
        super().__init__(message, where=where, expected=expected, got=got)


class Pairing(NamedTuple):
    """One pairing offer shown on the agent screen."""

    token: str
    code: str
    url: str
    expires: datetime

    @property
    def entry_url(self):
        """Where a tablet types the code instead of scanning the QR code."""
        return self.url.rsplit("/", 1)[0]


def init_app(app):
    """Register the pairing routes, the guard on every other page and the QR helper."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(
        pairing_qr=qr_svg, pairing_code=format_code, pairing_time=_clock_time
    )
    _connect(app).close()


def _now(app, now=None):
    # The kiosk's clock hook (a callable in config) keeps tests and the agent's confirmed time in step.
    if now is not None:
        return now
    clock = app.config.get("CLOCK")
    return clock() if clock else datetime.now(UTC)


def _db_path(app):
    return Path(app.config["HOME"]) / "pairing.db"


def _connect(app):
    conn = sqlite3.connect(_db_path(app), timeout=10, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS pairing ("
        " id TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, expires TEXT NOT NULL,"
        " used_at TEXT, revoked_at TEXT)"
    )
    return conn


def _serializer(app, salt):
    if not app.secret_key:
        raise KioskError("the kiosk has no secret key", where="SECRET_KEY", expected="a secret")
    return URLSafeSerializer(app.secret_key, salt=salt)


def new_pairing(app, now=None, *, rng=None):
    """Make a one-time pairing offer: (token, code, url, expires)."""
    rng = rng or secrets.SystemRandom()
    now = _now(app, now)
    expires = now + timedelta(seconds=app.config["PAIRING_TOKEN_SECONDS"])
    with closing(_connect(app)) as conn:
        # Codes stay unique for ever (an old one typed again says "expired"): draw again on the
        # rare clash rather than fail.
        for _ in range(5):
            # 64 bits: unguessable next to the signature, and a short token keeps the QR sparse.
            pairing_id = "".join(rng.choice("0123456789abcdef") for _ in range(16))
            code = "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            try:
                conn.execute(
                    "INSERT INTO pairing (id, code, expires) VALUES (?, ?, ?)",
                    (pairing_id, code, expires.isoformat()),
                )
                break
            except sqlite3.IntegrityError:
                continue
        else:
            raise KioskError("no free pairing code", where="pairing.db", expected="a new code")
    token = _serializer(app, TOKEN_SALT).dumps({"id": pairing_id, "exp": int(expires.timestamp())})
    return Pairing(token, code, _pair_url(app, token), expires)


def _pair_url(app, token):
    base = app.config.get("PAIRING_BASE_URL")
    if not base and has_request_context():
        base = request.host_url
    return f"{(base or '').rstrip('/')}/pair/{token}"


def _clock_time(moment):
    # The device runs on the stand's local time zone (Europe/Paris by the set-up script).
    return moment.astimezone().strftime("%H:%M")


def format_code(code):
    """The code as the agent reads it out: two groups of four."""
    return f"{code[:4]}-{code[4:]}"


def _normalise_code(text):
    cleaned = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    if len(cleaned) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in cleaned):
        raise PairingError(
            "bad_code",
            "pairing code",
            where="code",
            expected=f"{CODE_LENGTH} letters or digits",
            got=repr(text)[:40],
        )
    return cleaned


def check_token(app, token, now=None):
    """The pairing id a token stands for; raises PairingError if forged or expired."""
    try:
        payload = _serializer(app, TOKEN_SALT).loads(token)
    except BadSignature as exc:
        raise PairingError(
            "forged",
            "pairing token",
            where="token",
            expected="a signed token",
            got="a forged or damaged one",
        ) from exc
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("exp"), int)
        or not isinstance(payload.get("id"), str)
    ):
        raise PairingError(
            "forged",
            "pairing token",
            where="token",
            expected="id and expiry",
            got=type(payload).__name__,
        )
    if _now(app, now).timestamp() >= payload["exp"]:
        raise PairingError(
            "expired", "pairing token expired", where="token", expected="before", got=payload["exp"]
        )
    return payload["id"]


def redeem(app, *, token=None, code=None, now=None):
    """Consume a token (or the code shown beside it) once; return the cookie value."""
    now = _now(app, now)
    if token is not None:
        pairing_id = check_token(app, token, now)
        where, value = "id", pairing_id
    else:
        where, value = "code", _normalise_code(code)
    with closing(_connect(app)) as conn:
        # BEGIN IMMEDIATE: two tablets racing on the same code cannot both win.
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                f"SELECT id, expires, used_at FROM pairing WHERE {where} = ?",  # noqa: S608
                (value,),
            ).fetchone()
            if row is None:
                raise PairingError(
                    "unknown",
                    "pairing unknown",
                    where=where,
                    expected="an offer made here",
                    got="none",
                )
            if row[2] is not None:
                raise PairingError(
                    "used", "pairing already used", where=where, expected="unused", got=row[2]
                )
            if now >= datetime.fromisoformat(row[1]):
                raise PairingError(
                    "expired",
                    "pairing expired",
                    where=where,
                    expected=f"before {row[1]}",
                    got=now.isoformat(),
                )
            conn.execute("UPDATE pairing SET used_at = ? WHERE id = ?", (now.isoformat(), row[0]))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    expires = int((now + timedelta(seconds=app.config["PAIRING_COOKIE_SECONDS"])).timestamp())
    return _serializer(app, COOKIE_SALT).dumps({"id": row[0], "exp": expires})


def check_cookie(app, value, now=None):
    """Raise PairingError unless the cookie is signed here, current and not revoked."""
    if not value:
        raise PairingError(
            "unpaired",
            "browser not paired",
            where="cookie",
            expected="a pairing cookie",
            got="none",
        )
    try:
        payload = _serializer(app, COOKIE_SALT).loads(value)
    except BadSignature as exc:
        raise PairingError(
            "forged", "pairing cookie", where="cookie", expected="signed here", got="forged"
        ) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        raise PairingError("forged", "pairing cookie", where="cookie", expected="id and expiry")
    if _now(app, now).timestamp() >= payload["exp"]:
        raise PairingError(
            "expired",
            "pairing cookie expired",
            where="cookie",
            expected="before",
            got=payload.get("exp"),
        )
    with closing(_connect(app)) as conn:
        row = conn.execute(
            "SELECT revoked_at FROM pairing WHERE id = ? AND used_at IS NOT NULL",
            (payload.get("id"),),
        ).fetchone()
    if row is None:
        # Signed here but never redeemed (or from a wiped pairing.db): not a paired tablet.
        raise PairingError(
            "unpaired", "pairing unknown", where="cookie", expected="a redeemed pairing", got="none"
        )
    if row[0] is not None:
        raise PairingError(
            "revoked", "pairing revoked", where="cookie", expected="a current pairing", got=row[0]
        )


def revoke_all(app, now=None):
    """Unpair every tablet (a lost or stolen one); returns how many pairings ended."""
    stamp = _now(app, now).isoformat()
    with closing(_connect(app)) as conn, conn:
        cur = conn.execute(
            "UPDATE pairing SET revoked_at = ? WHERE used_at IS NOT NULL AND revoked_at IS NULL",
            (stamp,),
        )
    return cur.rowcount


def paired_count(app):
    """How many tablets are paired now (not revoked)."""
    with closing(_connect(app)) as conn:
        return conn.execute(
            "SELECT count(*) FROM pairing WHERE used_at IS NOT NULL AND revoked_at IS NULL"
        ).fetchone()[0]


def is_trusted(app, remote_addr):
    """The device's own browser (loopback or a configured own address) needs no pairing."""
    if not remote_addr:
        return False
    trusted = app.config["PAIRING_TRUSTED_ADDRESSES"]
    if isinstance(trusted, str):
        # From the environment as plain text rather than a JSON list: "10.42.0.1, ::1".
        trusted = trusted.replace(",", " ").split()
    if remote_addr in trusted:
        return True
    try:
        return ipaddress.ip_address(remote_addr).is_loopback
    except ValueError:
        return False


def qr_svg(url, title="QR code"):
    """An inline SVG QR code of `url`: classes only, no inline style (the CSP forbids it)."""
    svg = segno.make(url, error="m").svg_inline(
        scale=6,
        border=4,
        title=title,
        dark="#000",
        light="#fff",
        svgclass="pairing-qr",
        lineclass="pairing-qr-dark",
    )
    # segno escapes the title and the URL is drawn as modules, so the SVG holds no raw input.
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704


@bp.before_app_request
def guard():
    """Refuse unpaired browsers when PAIRING_REQUIRED is on."""
    app = current_app
    if not app.config["PAIRING_REQUIRED"]:
        return None
    if any(
        request.path.startswith(p) if p.endswith("/") else request.path == p
        for p in app.config["PAIRING_OPEN_PATHS"]
    ):
        return None
    if is_trusted(app, request.remote_addr):
        return None
    try:
        check_cookie(app, request.cookies.get(COOKIE_NAME))
    except PairingError as exc:
        return render_template("pairing/required.html", reason=exc.reason), 403
    return None


@bp.get("/pair")
def enter_code():
    """The form where a tablet types the code shown on the agent screen."""
    return render_template("pairing/pair.html", token=None, error=None)


@bp.get("/pair/<token>")
def confirm(token):
    """The page a tablet reaches from the QR code: one button to pair (GET changes nothing)."""
    try:
        check_token(current_app, token)
    except PairingError as exc:
        return render_template("pairing/pair.html", token=None, error=exc.reason), 403
    return render_template("pairing/pair.html", token=token, error=None)


@bp.post("/pair")
def pair():
    """Redeem a token or a typed code and give this browser its pairing cookie."""
    token = request.form.get("token") or None
    code = request.form.get("code")
    if token is None and code is None:
        abort(400)
    try:
        value = redeem(current_app, token=token, code=code)
    except PairingError as exc:
        return render_template("pairing/pair.html", token=None, error=exc.reason), 403
    response = redirect("/")
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=current_app.config["PAIRING_COOKIE_SECONDS"],
        httponly=True,
        samesite="Strict",
        secure=request.is_secure,
        path="/",
    )
    return response
