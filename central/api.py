"""`POST /api/v1/bundles`: a kiosk pushes its bundle, signed by its enrolled key (docs/sync-protocol.md)."""

from datetime import timedelta

from flask import Blueprint, jsonify, request

from sync.bundle import read_unverified_bundle, verify_bundle
from sync.central import import_bundle
from sync.enroll import read_certificate
from sync.errors import (
    BundleError,
    ConflictError,
    EnrollmentError,
    PushError,
    RevokedError,
    SignatureError,
    UrneError,
)
from sync.push import (
    CONTENT_TYPE,
    PATH,
    WINDOW_SECONDS,
    ReplayedPushError,
    StalePushError,
    format_time,
    verify_push,
)

bp = Blueprint("central_api", __name__)

# Nonces live in the central database so that every worker process refuses a replay
# (docs/sync-protocol.md, step 6). Created here, beside sync/central.py's own tables.
NONCES_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS push_nonces (device TEXT NOT NULL, nonce TEXT NOT NULL,"
    " at TEXT NOT NULL, PRIMARY KEY (device, nonce)) WITHOUT ROWID"
)

# Error class -> (HTTP status, error code) of the authentication step, most specific first.
AUTH_ERRORS = (
    (StalePushError, 401, "stale-time"),
    (ReplayedPushError, 409, "replayed"),
    (PushError, 400, "bad-request"),
    (RevokedError, 403, "revoked"),
    (EnrollmentError, 401, "unknown-device"),
    (SignatureError, 401, "bad-signature"),
)


def init_app(app):
    """Create the nonce table of this central's database."""
    from sync.central import CentralStore

    home = app.extensions["urne_central"].home
    with CentralStore(home) as s, s.write() as c:
        c.execute(NONCES_SCHEMA)


def _server_time():
    from central import web

    return format_time(web().now())


def refusal(status, code, message, where=None):
    """A JSON refusal as the protocol documents it."""
    body = {"ok": False, "error": code, "message": message, "server_time": _server_time()}
    if where is not None:
        body["where"] = str(where)
    return jsonify(body), status


def _refuse(status, code, exc):
    return refusal(status, code, str(exc), getattr(exc, "where", None))


class _Body:
    """The request body as a private temporary file, written only when something needs a path."""

    def __init__(self, store, data):
        self.store, self.data, self.path = store, data, None

    def file(self):
        if self.path is None:
            self.path = self.store.incoming(self.data)
        return self.path

    def discard(self):
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def key_lookup(store, election, revocations, body):
    """device_key_lookup for verify_push: the stored certificate, else the one the bundle carries.

    Either way the certificate must verify under the election's authority key: "enrolled"
    means certified by the authority, which the central learns from the certificate itself.
    """

    def lookup(device, epoch):
        if revocations is not None:
            revocations.check(device, epoch, where="Urne-Device")
        row = store.conn.execute(
            "SELECT certificate FROM devices WHERE device = ? AND epoch = ?", (device, epoch)
        ).fetchone()
        try:
            if row is not None:
                cert = read_certificate(bytes(row[0]), election)
            else:
                cert = read_certificate(
                    read_unverified_bundle(body.file()).certificate_bytes, election
                )
        except UrneError as exc:
            raise EnrollmentError(
                "unknown device",
                where="Urne-Device",
                expected="a device certified by this election's authority",
                got=f"{device} epoch {epoch} ({exc})",
            ) from exc
        if (cert.device, cert.epoch) != (device, epoch):
            raise EnrollmentError(
                "unknown device",
                where="Urne-Device",
                expected=f"the certificate's {cert.device} epoch {cert.epoch}",
                got=f"{device} epoch {epoch}",
            )
        return cert.key

    return lookup


def nonce_memory(store, now):
    """seen_nonce for verify_push, backed by the push_nonces table (UNIQUE (device, nonce))."""

    def seen(device, nonce, when):
        horizon = format_time(now - timedelta(seconds=2 * WINDOW_SECONDS))
        with store.write() as c:
            # Requests older than the window fail the time check, so their nonces can go.
            c.execute("DELETE FROM push_nonces WHERE at < ?", (horizon,))
            cur = c.execute(
                "INSERT OR IGNORE INTO push_nonces (device, nonce, at) VALUES (?, ?, ?)",
                (device, nonce, format_time(when)),
            )
            return cur.rowcount == 0

    return seen


@bp.post(PATH)
def push():
    """Authenticate the device, verify the bundle completely, then import it in one transaction."""
    from central import store as get_store
    from central import web

    w = web()
    now = w.now()
    if request.mimetype != CONTENT_TYPE:
        return refusal(
            400, "bad-request", f"wrong content type: expected {CONTENT_TYPE}, got "
            f"{request.mimetype or 'none'}", "Content-Type",
        )  # fmt: skip
    data = request.get_data(cache=False)
    store = get_store()
    try:
        revocations = w.revocations()
    except UrneError as exc:
        return _refuse(500, "internal", exc)
    body = _Body(store, data)
    try:
        try:
            device, epoch = verify_push(
                request.headers, data, key_lookup(store, w.election, revocations, body),
                now=now, seen_nonce=nonce_memory(store, now),
            )  # fmt: skip
        except (PushError, EnrollmentError, SignatureError) as exc:
            status, code = next((s, c) for cls, s, c in AUTH_ERRORS if isinstance(exc, cls))
            return _refuse(status, code, exc)
        if store.meta("purged"):
            return refusal(409, "closed", "the central was purged; it takes no more ballots")
        try:
            bundle = verify_bundle(body.file(), w.election, revocations)
        except RevokedError as exc:
            return _refuse(403, "revoked", exc)
        except UrneError as exc:
            return _refuse(422, "bad-bundle", exc)
        if (bundle.device, bundle.epoch) != (device, epoch):
            return refusal(
                422, "bad-bundle", f"the bundle is {bundle.device} epoch {bundle.epoch}, "
                f"the request names {device} epoch {epoch}", "Urne-Device",
            )  # fmt: skip
        try:
            result = import_bundle(
                store, w.election, data, revocations=revocations, now=now,
                name=f"push {device} e{epoch}", verified=bundle,
            )  # fmt: skip
        except ConflictError as exc:
            return _refuse(409, "fork", exc)
        except BundleError as exc:
            return _refuse(422, "bad-bundle", exc)
    finally:
        body.discard()
    count = result.last - result.first + 1
    present = result.present if result.status != "already" else count
    return jsonify(
        ok=True,
        status="imported" if result.added else "already-present",
        device=device,
        epoch=epoch,
        records_new=result.added,
        records_present=present,
        last=result.last,
        head=bundle.head,
        state=result.state,
        server_time=format_time(now),
    )
