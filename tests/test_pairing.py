"""Tablet pairing: only paired browsers reach the ballot; bad, old or reused tokens are refused."""

import random as random_module
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from flask import render_template_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer

from app import create_app
from kiosk import pairing
from kiosk.pairing import (
    COOKIE_NAME,
    COOKIE_SALT,
    TOKEN_SALT,
    PairingError,
    new_pairing,
    paired_count,
    redeem,
    revoke_all,
)

T0 = datetime(2026, 5, 12, 8, 30, tzinfo=UTC)
TABLET = {"REMOTE_ADDR": "10.42.0.23"}
OTHER_TABLET = {"REMOTE_ADDR": "10.42.0.24"}


class Clock:
    """A settable clock for the app (config CLOCK)."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock(T0)


@pytest.fixture
def kiosk_app(deploy_kiosk_home, clock):
    """The real kiosk app on a demo folder, pairing required, as on a tablet stand."""
    flask_app = create_app(
        {
            "HOME": str(deploy_kiosk_home),
            "TESTING": True,
            "PAIRING_REQUIRED": True,
            "PAIRING_BASE_URL": "http://10.42.0.1:5000",
            "CLOCK": clock,
        }
    )
    yield flask_app
    store = flask_app.extensions["urne_kiosk"]["store"]
    if store is not None:
        store.close()


def _tablet(app, environ=TABLET):
    client = app.test_client()
    client.environ_base.update(environ)
    return client


def _reason(html):
    """The refusal reason a pairing page shows (language-independent marker), or None."""
    found = re.search(r'data-pairing-reason="([a-z_]+)"', html)
    return found.group(1) if found else None


def _csrf(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _pair_with_token(client, token):
    page = client.get(f"/pair/{token}")
    if page.status_code != 200:
        return page
    return client.post("/pair", data={"csrf_token": _csrf(page.text), "token": token})


def _reach_ballot(client):
    """Walk the resident flow to the first section: (status, html)."""
    welcome = client.get("/")
    if welcome.status_code != 200:
        return welcome.status_code, welcome.text
    client.post("/start", data={"csrf_token": _csrf(welcome.text)})
    checkin = client.get("/check-in")
    if checkin.status_code != 200:
        return checkin.status_code, checkin.text
    identity = {
        "csrf_token": _csrf(checkin.text),
        "last_name": "Etcheverry",
        "first_name": "Maïté",
        "birth_date": "1980-04-02",
        "postcode": "64000",
        "commune": "Pau",
        "declaration": "yes",
    }
    client.post("/check-in", data=identity)
    ballot = client.get("/ballot/0")
    return ballot.status_code, ballot.text


def test_new_pairing_gives_token_code_url_and_expiry(kiosk_app):
    offer = new_pairing(kiosk_app, now=T0)
    token, code, url, expires = offer
    assert url == f"http://10.42.0.1:5000/pair/{token}"
    assert offer.entry_url == "http://10.42.0.1:5000/pair"
    assert re.fullmatch(r"[A-HJKMNP-Z2-9]{8}", code)
    assert expires == T0 + timedelta(seconds=kiosk_app.config["PAIRING_TOKEN_SECONDS"])
    assert new_pairing(kiosk_app, now=T0).code != code


def test_unpaired_tablet_gets_no_ballot(kiosk_app):
    tablet = _tablet(kiosk_app)
    for path in ("/", "/check-in", "/ballot/0", "/review", "/receipt"):
        page = tablet.get(path)
        assert page.status_code == 403, path
        assert 'id="pairing-required"' in page.text and 'name="action"' not in page.text
        assert _reason(page.text) == "unpaired"
    # Even with a valid CSRF token (the pairing page hands one out), no flow starts.
    token = _csrf(tablet.get("/pair").text)
    assert tablet.post("/start", data={"csrf_token": token}).status_code == 403
    # The health probe and the pairing pages stay reachable.
    assert tablet.get("/healthz").status_code == 200
    assert tablet.get("/pair").status_code == 200
    # Open paths are exact (or a folder): a look-alike path is still guarded.
    assert tablet.get("/pairing-and-more").status_code == 403
    assert tablet.get("/healthz/../ballot/0").status_code == 403


def test_the_devices_own_browser_needs_no_pairing(kiosk_app):
    status, html = _reach_ballot(kiosk_app.test_client())
    assert status == 200 and 'name="action"' in html


def test_an_own_address_can_be_trusted_like_loopback(kiosk_app):
    kiosk_app.config["PAIRING_TRUSTED_ADDRESSES"] = ["10.42.0.1"]
    assert _tablet(kiosk_app, {"REMOTE_ADDR": "10.42.0.1"}).get("/").status_code == 200
    assert _tablet(kiosk_app).get("/").status_code == 403


def test_pairing_off_lets_any_browser_in(kiosk_app):
    kiosk_app.config["PAIRING_REQUIRED"] = False
    assert _tablet(kiosk_app).get("/").status_code == 200


def test_tablet_paired_by_qr_link_gets_the_ballot(kiosk_app):
    offer = new_pairing(kiosk_app)
    tablet = _tablet(kiosk_app)
    answer = _pair_with_token(tablet, offer.token)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    cookie = answer.headers["Set-Cookie"]
    assert (
        cookie.startswith(f"{COOKIE_NAME}=")
        and "HttpOnly" in cookie
        and "SameSite=Strict" in cookie
    )
    status, html = _reach_ballot(tablet)
    assert status == 200 and 'name="action"' in html
    assert paired_count(kiosk_app) == 1
    # Another tablet is still refused.
    assert _tablet(kiosk_app, OTHER_TABLET).get("/").status_code == 403


def test_tablet_paired_by_typed_code_gets_the_ballot(kiosk_app):
    offer = new_pairing(kiosk_app)
    tablet = _tablet(kiosk_app)
    form = tablet.get("/pair")
    typed = f" {offer.code[:4].lower()}-{offer.code[4:]} "
    answer = tablet.post("/pair", data={"csrf_token": _csrf(form.text), "code": typed})
    assert answer.status_code == 302
    assert _reach_ballot(tablet)[0] == 200


def test_opening_the_link_alone_pairs_nothing(kiosk_app):
    offer = new_pairing(kiosk_app)
    tablet = _tablet(kiosk_app)
    assert tablet.get(f"/pair/{offer.token}").status_code == 200
    assert tablet.get(f"/pair/{offer.token}").status_code == 200
    assert paired_count(kiosk_app) == 0
    assert tablet.get("/").status_code == 403


def test_a_reused_token_or_code_is_refused(kiosk_app):
    offer = new_pairing(kiosk_app)
    assert _pair_with_token(_tablet(kiosk_app), offer.token).status_code == 302
    second = _tablet(kiosk_app, OTHER_TABLET)
    form = second.get("/pair")
    again = second.post("/pair", data={"csrf_token": _csrf(form.text), "token": offer.token})
    assert again.status_code == 403 and _reason(again.text) == "used"
    again = second.post("/pair", data={"csrf_token": _csrf(form.text), "code": offer.code})
    assert again.status_code == 403 and _reason(again.text) == "used"
    assert "Set-Cookie" not in again.headers or COOKIE_NAME not in again.headers["Set-Cookie"]
    assert second.get("/").status_code == 403


def test_an_expired_token_is_refused(kiosk_app, clock):
    offer = new_pairing(kiosk_app)
    tablet = _tablet(kiosk_app)
    form = tablet.get("/pair")
    clock.now = offer.expires
    assert tablet.get(f"/pair/{offer.token}").status_code == 403
    answer = tablet.post("/pair", data={"csrf_token": _csrf(form.text), "token": offer.token})
    assert answer.status_code == 403 and _reason(answer.text) == "expired"
    answer = tablet.post("/pair", data={"csrf_token": _csrf(form.text), "code": offer.code})
    assert answer.status_code == 403 and _reason(answer.text) == "expired"
    assert paired_count(kiosk_app) == 0


def test_a_forged_or_tampered_token_is_refused(kiosk_app):
    offer = new_pairing(kiosk_app)
    forged = URLSafeSerializer(b"not the kiosk's secret key", salt=TOKEN_SALT).dumps(
        {"id": "0" * 16, "exp": int((T0 + timedelta(hours=1)).timestamp())}
    )
    tampered = offer.token[:-2] + ("AA" if not offer.token.endswith("AA") else "BB")
    tablet = _tablet(kiosk_app)
    for token in (forged, tampered, "nonsense"):
        page = tablet.get(f"/pair/{token}")
        assert page.status_code == 403 and _reason(page.text) == "forged", token
        form = tablet.get("/pair")
        answer = tablet.post("/pair", data={"csrf_token": _csrf(form.text), "token": token})
        assert answer.status_code == 403
    assert tablet.get("/").status_code == 403
    with pytest.raises(PairingError) as caught:
        redeem(kiosk_app, token=forged)
    assert caught.value.reason == "forged" and caught.value.where == "token"


def test_a_forged_cookie_is_refused(kiosk_app):
    tablet = _tablet(kiosk_app)
    stranger = URLSafeSerializer(b"another kiosk's key", salt=COOKIE_SALT).dumps(
        {"id": "0" * 16, "exp": int((T0 + timedelta(hours=9)).timestamp())}
    )
    tablet.set_cookie(COOKIE_NAME, stranger, domain="localhost")
    page = tablet.get("/")
    assert page.status_code == 403 and _reason(page.text) == "forged"
    # Signed with the right key but for an offer never redeemed: still refused.
    offer = new_pairing(kiosk_app)
    unredeemed_id = pairing.check_token(kiosk_app, offer.token)
    own = URLSafeSerializer(kiosk_app.secret_key, salt=COOKIE_SALT).dumps(
        {"id": unredeemed_id, "exp": int((T0 + timedelta(hours=9)).timestamp())}
    )
    tablet.set_cookie(COOKIE_NAME, own, domain="localhost")
    page = tablet.get("/")
    assert page.status_code == 403 and _reason(page.text) == "unpaired"


def test_pairing_lasts_the_day_then_ends(kiosk_app, clock):
    tablet = _tablet(kiosk_app)
    _pair_with_token(tablet, new_pairing(kiosk_app).token)
    clock.now = T0 + timedelta(hours=10)
    assert tablet.get("/").status_code == 200
    clock.now = T0 + timedelta(seconds=kiosk_app.config["PAIRING_COOKIE_SECONDS"])
    page = tablet.get("/")
    assert page.status_code == 403 and _reason(page.text) == "expired"


def test_revoking_unpairs_every_tablet(kiosk_app):
    tablets = [_tablet(kiosk_app, TABLET), _tablet(kiosk_app, OTHER_TABLET)]
    for tablet in tablets:
        _pair_with_token(tablet, new_pairing(kiosk_app).token)
        assert tablet.get("/").status_code == 200
    assert revoke_all(kiosk_app) == 2
    for tablet in tablets:
        page = tablet.get("/")
        assert page.status_code == 403 and _reason(page.text) == "revoked"
    assert paired_count(kiosk_app) == 0


def test_two_tablets_racing_on_one_code_cannot_both_pair(kiosk_app):
    offer = new_pairing(kiosk_app)
    results = []
    barrier = threading.Barrier(4)

    def attempt():
        barrier.wait()
        try:
            results.append(redeem(kiosk_app, code=offer.code))
        except PairingError as exc:
            results.append(exc.reason)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r == "used" for r in results) == [False, True, True, True]
    assert paired_count(kiosk_app) == 1


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(typed=st.text(max_size=20))
def test_no_typed_text_but_the_issued_code_pairs(kiosk_app, typed):
    offer = new_pairing(kiosk_app)
    if "".join(c for c in typed.upper() if c.isalnum()) == offer.code:
        return
    with pytest.raises(PairingError) as caught:
        redeem(kiosk_app, code=typed)
    assert caught.value.reason in {"bad_code", "unknown"}
    assert paired_count(kiosk_app) == 0


def test_agent_include_shows_code_and_a_qr_without_inline_style(kiosk_app):
    offer = new_pairing(kiosk_app)
    with kiosk_app.test_request_context("/agent"):
        html = render_template_string('{% include "pairing/_code.html" %}', pairing=offer)
    assert f"{offer.code[:4]}-{offer.code[4:]}" in html
    assert "http://10.42.0.1:5000/pair" in html
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img"' in svg and "<title>" in svg and 'class="pairing-qr"' in svg
    assert "style" not in html.lower()


def test_a_clashing_code_is_drawn_again(kiosk_app):
    first = new_pairing(kiosk_app, rng=random_module.Random(7))
    # The same seed draws the same id and code first: the second offer must still be new.
    second = new_pairing(kiosk_app, rng=_Replay(random_module.Random(7), skip=first))
    assert second.code != first.code and second.token != first.token


class _Replay:
    """A random source that replays another's first offer once, then draws afresh."""

    def __init__(self, rng, skip):
        self.rng = rng
        self.calls = 0
        self.limit = 16 + len(skip.code)

    def choice(self, seq):
        self.calls += 1
        if self.calls > self.limit:
            return random_module.choice(seq)
        return self.rng.choice(seq)
