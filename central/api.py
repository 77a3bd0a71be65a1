"""`POST /api/v1/bundles`: a kiosk pushes its bundle, signed by its enrolled key (docs/sync-protocol.md)."""

import sqlite3
from datetime import timedelta

from flask import Blueprint, jsonify, request

from sync.bundle import read_unverified_bundle, verify_bundle
from sync.central import import_bundle
from sync.crypto import sha256_hex
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

# Error class -> (HTTP status, error code) of the authentication step, most specific first.
AUTH_ERRORS = (
    (StalePushError, 401, "stale-time"),
    (ReplayedPushError, 409, "replayed"),
    (PushError, 400, "bad-request"),
    (RevokedError, 403, "revoked"),
    (EnrollmentError, 401, "unknown-device"),
    (SignatureError, 401, "bad-signature"),
)


def _server_time():
    from central import web

    return format_time(web().now())


def refusal(status, code, message, where=None):
    """A JSON refusal as the protocol documents it."""
    body = {"ok": False, "error": code, "message": message, "server_time": _server_time()}
    if where is not None:
        body["where"] = str(where)
    return jsonify(body), status


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
    """seen_nonce for verify_push, backed by the push_nonces table (migration 2 of sync/central_schema.py)."""

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


def _stored_head(store, file_hash):
    row = store.conn.execute("SELECT head FROM bundles WHERE hash = ?", (file_hash,)).fetchone()
    return row[0]


class _Refused(Exception):
    """A refusal on its way to the JSON answer (status, code, the error that caused it)."""

    def __init__(self, status, code, error):
        super().__init__(str(error))
        self.status, self.code, self.where = status, code, getattr(error, "where", None)


def _authenticate(store, w, data, body, revocations, now):
    """Steps 2-6 of docs/sync-protocol.md; (device, epoch) or _Refused."""
    try:
        return verify_push(
            request.headers, data, key_lookup(store, w.election, revocations, body),
            now=now, seen_nonce=nonce_memory(store, now),
        )  # fmt: skip
    except (PushError, EnrollmentError, SignatureError) as exc:
        status, code = next((s, c) for cls, s, c in AUTH_ERRORS if isinstance(exc, cls))
        raise _Refused(status, code, exc) from exc


def _accept(store, w, data, body, revocations, now, device, epoch):
    """Step 7: verify the whole bundle, check it is the requester's, import; (result, head)."""
    if store.meta("purged"):
        raise _Refused(409, "closed", "the central was purged; it takes no more ballots")
    known = store.bundle_result(sha256_hex(data))
    if known is not None:
        # These exact bytes were verified and stored before: a retry, answered at once.
        named, head = known, _stored_head(store, known.hash)
    else:
        try:
            named = verify_bundle(body.file(), w.election, revocations)
        except RevokedError as exc:
            raise _Refused(403, "revoked", exc) from exc
        except UrneError as exc:
            raise _Refused(422, "bad-bundle", exc) from exc
        head = named.head
    if (named.device, named.epoch) != (device, epoch):
        raise _Refused(422, "bad-bundle", PushError(
            f"the bundle is {named.device} epoch {named.epoch}, the request names {device} "
            f"epoch {epoch}", where="Urne-Device"))  # fmt: skip
    if known is not None:
        return known, head
    try:
        result = import_bundle(
            store, w.election, data, revocations=revocations, now=now,
            name=f"push {device} e{epoch}", verified=named,
        )  # fmt: skip
    except ConflictError as exc:
        raise _Refused(409, "fork", exc) from exc
    except BundleError as exc:
        raise _Refused(422, "bad-bundle", exc) from exc
    return result, head


@bp.post(PATH)
def push():
    """Authenticate the device, verify the bundle completely, then import it in one transaction."""
    from central import store as get_store
    from central import web

    w = web()
    now = w.now()
    if request.mimetype != CONTENT_TYPE:
        got = request.mimetype or "none"
        return refusal(400, "bad-request", f"wrong content type: expected {CONTENT_TYPE}, got {got}",
                       "Content-Type")  # fmt: skip
    data = request.get_data(cache=False)
    store = get_store()
    body = _Body(store, data)
    try:
        try:
            revocations = w.revocations()
        except UrneError as exc:
            # Fail closed: without a trustworthy revocation list nobody is let in.
            raise _Refused(500, "internal", exc) from exc
        device, epoch = _authenticate(store, w, data, body, revocations, now)
        result, head = _accept(store, w, data, body, revocations, now, device, epoch)
    except _Refused as exc:
        return refusal(exc.status, exc.code, str(exc), exc.where)
    except sqlite3.OperationalError as exc:
        # The database stayed locked past the busy timeout: nothing was written, retry later.
        return refusal(500, "internal", f"the central database is busy ({exc}); retry later")
    finally:
        body.discard()
    count = result.last - result.first + 1
    return jsonify(
        ok=True,
        status="imported" if result.added else "already-present",
        device=device,
        epoch=epoch,
        records_new=result.added,
        records_present=result.present if result.status != "already" else count,
        last=result.last,
        head=head,
        state=result.state,
        server_time=format_time(now),
    )
