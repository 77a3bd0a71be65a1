"""The kiosk side of "Sync now": send a bundle to the central as a signed push request."""

import json
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from sync.bundle import verify_bundle, write_bundle
from sync.errors import UrneError
from sync.push import PATH, sign_push

from .errors import ExportError, KioskError, NothingToExport

# The central answers in a few seconds even for a full day's bundle; longer means no network.
TIMEOUT_SECONDS = 20
# One retry after a dropped connection: harmless, the central imports the same bytes only once.
RETRIES = 1
# A connection cut after it was made: the central may have the request (RemoteDisconnected is a
# ConnectionResetError).
DROPPED = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class SyncError(KioskError):
    """Sending the bundle did not end with an answer from the central that it was accepted."""


class SyncOffline(SyncError):
    """The central cannot be reached (no network, wrong address, timeout)."""


class SyncRefused(SyncError):
    """The central answered with an error; `status`, `code` and `answer` hold what it said."""

    def __init__(self, status, answer):
        self.status = status
        self.answer = answer
        self.code = answer.get("error", "unknown") if isinstance(answer, dict) else "unknown"
        message = answer.get("message", "") if isinstance(answer, dict) else ""
        super().__init__(
            f"the central refused the bundle ({self.code})", expected="accepted", got=message
        )


@dataclass(frozen=True)
class PushAnswer:
    """The central's acceptance of a bundle, as it answered it."""

    status: str
    new: int
    present: int
    head: str | None
    answer: dict


def bundles_url(central_url):
    """The push endpoint under a configured central address (http or https only)."""
    parts = urllib.parse.urlsplit(central_url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SyncError(
            "the central address is not usable",
            where="CENTRAL_URL",
            expected="http(s)://host[:port]",
            got=repr(central_url),
        )
    return central_url.rstrip("/") + PATH


def _read_json(raw, status):
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SyncError(
            "the central's answer is not JSON", expected="JSON", got=f"HTTP {status}"
        ) from exc
    if not isinstance(answer, dict):
        raise SyncError("the central's answer is not a JSON object", got=type(answer).__name__)
    return answer


def _post_once(url, body, headers, timeout):
    # bundles_url() admitted only http and https.
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def push_bundle(
    central_url,
    body,
    *,
    device_key,
    device,
    epoch,
    now,
    rng=None,
    timeout=TIMEOUT_SECONDS,
    retries=RETRIES,
):
    """POST a bundle's bytes to the central; return its PushAnswer or raise a SyncError.

    now() is called for each try, so a retry carries a fresh time and nonce.
    """
    url = bundles_url(central_url)
    body = bytes(body)
    for attempt in range(retries + 1):
        headers = sign_push(device_key, device, epoch, body, now=now(), rng=rng)
        try:
            status, raw = _post_once(url, body, headers, timeout)
            break
        except OSError as exc:
            # urllib wraps errors while sending in URLError, not those while reading the answer.
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            if not isinstance(reason, DROPPED):
                raise SyncOffline(
                    "the central cannot be reached", where=url, got=str(reason)
                ) from exc
            # The request may have arrived: sending it again is safe (idempotent import).
            if attempt == retries:
                raise SyncOffline("the connection dropped", where=url, got=str(reason)) from exc
    answer = _read_json(raw, status)
    if status != 200 or not answer.get("ok"):
        raise SyncRefused(status, answer)
    return PushAnswer(
        status=str(answer.get("status", "imported")),
        new=int(answer.get("records_new", 0)),
        present=int(answer.get("records_present", 0)),
        head=answer.get("head"),
        answer=answer,
    )


def whole_bundle(store, *, now):
    """The bytes of a verified bundle of every record of the store (seq 1 to the head)."""
    # Under the store's lock: the web server's threads share one SQLite connection, and a read
    # during another thread's open transaction would see records not yet committed.
    with store._lock, tempfile.TemporaryDirectory(dir=store.home, prefix=".push-") as tmp:
        head = store.db.conn.execute("SELECT seq, hash FROM head").fetchone()
        if head is None:
            raise NothingToExport("nothing to send: no record yet")
        path = f"{tmp}/push.urne"
        try:
            write_bundle(
                path,
                certificate_bytes=store.certificate.bytes,
                records=((row[1], row[2]) for row in store.rows(1, head[0])),
                device_key=store.device_key,
                now=store.local(now),
                cumulative=True,
            )
            verified = verify_bundle(path, store.election, store.revocations, keep_records=False)
        except (OSError, UrneError) as exc:
            raise ExportError(f"the bundle to send could not be made: {exc}") from exc
        with open(path, "rb") as f:
            return f.read(), verified.count, verified.head


def sync_now(store, central_url, *, now, rng=None, timeout=TIMEOUT_SECONDS, retries=RETRIES):
    """Send every record of the store to the central; (PushAnswer, records sent, head hash).

    now() is called for each step, so the request carries the time it is sent at.
    """
    bundles_url(central_url)  # an unusable address is said before any work
    body, count, head = whole_bundle(store, now=now())
    answer = push_bundle(
        central_url,
        body,
        device_key=store.device_key,
        device=store.device,
        epoch=store.epoch,
        now=now,
        rng=rng,
        timeout=timeout,
        retries=retries,
    )
    return answer, count, head
