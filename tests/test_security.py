"""Security of the kiosk's web shell: headers, CSP without inline code, CSRF, cookies, fail-closed start."""

import re
import sqlite3

import pytest
from test_resident import IDENTITY, begin, token, vote

from app import create_app


def flow_pages(client):
    """Every resident page of a whole vote, as (name, response)."""
    pages = [("welcome", client.get("/"))]
    tok, _ = begin(client)
    pages.append(("check-in", client.get("/check-in")))
    pages.append(("ballot-approval", client.get("/ballot/0")))
    client.post("/ballot/0", data={"csrf_token": tok, "project": ["D01"]})
    pages.append(("ballot-knapsack", client.get("/ballot/1")))
    client.post("/ballot/1", data={"csrf_token": tok, "project": ["T01"]})
    pages.append(("review", client.get("/review")))
    client.post("/confirm", data={"csrf_token": tok})
    pages.append(("receipt", client.get("/receipt")))
    pages.append(("not-found", client.get("/no-such-page")))
    client.post("/reset", data={"csrf_token": tok})
    _tok, refused = begin(client, dict(IDENTITY, postcode="75001"))
    pages.append(("refused", refused))
    pages.append(("healthz", client.get("/healthz")))
    return pages


def test_every_page_carries_the_security_headers_and_no_store(client):
    for name, response in flow_pages(client):
        h = response.headers
        csp = h.get("Content-Security-Policy", "")
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, name
        assert "script-src 'self'" in csp and "style-src 'self'" in csp, name
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, name
        assert h.get("X-Content-Type-Options") == "nosniff", name
        assert h.get("Referrer-Policy") == "no-referrer", name
        assert "no-store" in h.get("Cache-Control", ""), name


def test_static_files_may_be_cached_but_keep_the_headers(client):
    response = client.get("/static/css/kiosk.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_inline_script_style_or_remote_resource_in_any_page(client):
    for name, response in flow_pages(client):
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\ssrc=)", html), f"inline script in {name}"
        assert "<style" not in html, f"style element in {name}"
        assert not re.search(r"\sstyle=", html), f"style attribute in {name}"
        assert not re.search(r"\son[a-z]+=", html), f"inline event handler in {name}"
        assert not re.search(r'(src|href|action)="(https?:)?//', html), f"remote resource in {name}"


def test_every_form_carries_a_csrf_token(client):
    for name, response in flow_pages(client):
        html = response.get_data(as_text=True)
        for form in re.findall(r"<form\b.*?</form>", html, re.S):
            if 'method="post"' in form:
                assert 'name="csrf_token"' in form, f"form without CSRF token in {name}"


@pytest.mark.parametrize(
    "path, data",
    [
        ("/start", {}),
        ("/language", {"lang": "en"}),
        ("/display", {"contrast": "high"}),
        ("/reset", {}),
        ("/check-in", IDENTITY),
        ("/confirm", {}),
    ],
)
def test_posts_without_a_csrf_token_are_refused(app, client, path, data):
    client.get("/")
    before = (
        app.extensions["urne_kiosk"]["store"]
        .db.conn.execute("SELECT count(*) FROM records")
        .fetchone()[0]
    )
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert "Cette page a expiré" in response.get_data(as_text=True)
    with client.session_transaction() as sess:
        assert "lang" not in sess and "contrast" not in sess
    after = (
        app.extensions["urne_kiosk"]["store"]
        .db.conn.execute("SELECT count(*) FROM records")
        .fetchone()[0]
    )
    assert after == before


def test_a_forged_token_is_refused(client):
    client.get("/")
    response = client.post("/start", data={"csrf_token": "forged." + "A" * 40})
    assert response.status_code == 400


def test_a_cast_without_a_token_never_commits(app, client):
    tok, _ = begin(client)
    client.post("/ballot/0", data={"csrf_token": tok, "project": ["D01"]})
    client.post("/ballot/1", data={"csrf_token": tok, "project": ["T01"]})
    assert client.post("/confirm").status_code == 400
    count = (
        app.extensions["urne_kiosk"]["store"]
        .db.conn.execute("SELECT count(*) FROM records WHERE kind = 'ballot'")
        .fetchone()[0]
    )
    assert count == 0


def test_session_cookie_is_httponly_and_samesite_strict(client):
    response = client.post("/language", data={"csrf_token": token(client.get("/")), "lang": "es"})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_session_cookie_holds_no_identity_nor_choices(client):
    tok, _ = begin(client)
    client.post("/ballot/0", data={"csrf_token": tok, "project": ["D01", "D02"]})
    with client.session_transaction() as sess:
        stored = repr(dict(sess))
    for secret in ("Etcheverry", "Maite", "1980", "D01", "64100"):
        assert secret not in stored


def test_no_secret_in_any_page(app, client, kiosk_home):
    secret = (kiosk_home / "secret_key").read_bytes()
    store = app.extensions["urne_kiosk"]["store"]
    for name, response in flow_pages(client):
        body = response.get_data()
        for value in (secret, store.receipt_key, store.voter_key):
            assert value not in body and value.hex().encode() not in body, name


def test_the_kiosk_refuses_to_start_without_its_secret_key(kiosk_home):
    (kiosk_home / "secret_key").unlink()
    with pytest.raises(RuntimeError, match="secret_key"):
        create_app({"HOME": str(kiosk_home)})


def test_the_kiosk_refuses_a_secret_key_others_can_read(kiosk_home):
    (kiosk_home / "secret_key").chmod(0o644)
    with pytest.raises(RuntimeError, match="readable by others"):
        create_app({"HOME": str(kiosk_home)})


def test_a_broken_chain_closes_the_stand_on_every_page_and_says_why(kiosk_home):
    conn = sqlite3.connect(kiosk_home / "kiosk.db")
    with conn:
        # Tampering from outside the app: drop the append-only guard, then damage a signature.
        conn.execute("DROP TRIGGER records_no_update")
        conn.execute("UPDATE records SET signature = zeroblob(64) WHERE seq = 1")
    conn.close()
    app = create_app({"HOME": str(kiosk_home), "TESTING": True})
    client = app.test_client()
    for path in ("/", "/check-in", "/ballot/0", "/review"):
        response = client.get(path)
        assert response.status_code == 503, path
        html = response.get_data(as_text=True)
        assert "Le stand ne peut pas ouvrir" in html
        assert "signature" in html.lower() or "record" in html.lower()
    assert client.post("/start").status_code == 503
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["ok"] is False
    assert client.get("/static/css/kiosk.css").status_code == 200


def test_healthz_reports_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"role": "kiosk", "ok": True}


def test_receipt_and_choices_are_gone_after_finish_even_through_history(client):
    receipt = vote(client)
    code = re.search(r'id="receipt-code">([^<]+)<', receipt.get_data(as_text=True)).group(1)
    client.post("/reset", data={"csrf_token": token(receipt)})
    # What the back button would re-request: none of it shows the previous resident.
    for path in ("/receipt", "/review", "/ballot/0", "/ballot/1", "/check-in"):
        response = client.get(path, follow_redirects=True)
        html = response.get_data(as_text=True)
        assert code not in html and "Etcheverry" not in html and " checked" not in html, path


def _broken_kiosk(kiosk_home):
    conn = sqlite3.connect(kiosk_home / "kiosk.db")
    with conn:
        conn.execute("DROP TRIGGER records_no_update")
        conn.execute("UPDATE records SET signature = zeroblob(64) WHERE seq = 1")
    conn.close()
    return create_app({"HOME": str(kiosk_home), "TESTING": True})


def test_a_stand_that_cannot_open_still_lets_the_agent_see_why(kiosk_home):
    client = _broken_kiosk(kiosk_home).test_client()
    login = client.get("/agent/login")
    assert login.status_code == 200
    html = login.get_data(as_text=True)
    # Why, in plain words first, then the exact message for the support line.
    assert "Le stand ne peut pas ouvrir" in html
    assert "un vote manque ou a été modifié" in html
    assert "signature" in html.lower()
    # Resident pages and the agent's actions stay shut.
    for path in ("/", "/check-in", "/agent/open", "/agent/export"):
        assert client.get(path).status_code == 503, path
    # The agent's status page is let through (it asks for the login first).
    assert client.get("/agent/").status_code in (302, 503)


def test_an_agent_page_asking_for_a_store_that_did_not_open_says_why(kiosk_home, kiosk_pin):
    client = _broken_kiosk(kiosk_home).test_client()
    tok = token(client.get("/agent/login"))
    # The PIN tries are counted in the store: without it the login says why, not a 500.
    answer = client.post("/agent/login", data={"csrf_token": tok, "pin": kiosk_pin})
    assert answer.status_code == 503
    assert "un vote manque ou a été modifié" in answer.get_data(as_text=True)


def test_the_kiosk_headers_come_from_the_shared_web_package():
    from kiosk import security
    from web import security as web

    assert security.CSP is web.CSP and security.HEADERS is web.HEADERS
    assert "script-src 'self'" in web.CSP and "'unsafe-inline'" not in web.CSP
