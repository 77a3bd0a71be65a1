"""Organiser pages over a real central: login, lockout, stands, import log, doublons, turnout, publish."""

import re

import pytest
from fixtures_central_web import NOW, PASSWORD, central_app, csrf, organiser

from sync.central_home import open_central
from sync.groups import adjudication_bodies, current_groups, refresh_groups


@pytest.fixture
def kit(central_kit):
    """Two stands; resident "twice" votes on both (a held group), k2's chain has a gap."""
    kit = central_kit(devices=("k1", "k2"))
    k1 = kit.chain(
        "k1",
        [
            ("open", "2026-05-16T09:00"),
            ("ballot", "a", "kiosk", "2026-05-16T09:15"),
            ("ballot", "twice", "kiosk", "2026-05-16T10:15"),
            ("ballot", "b", "paper", "2026-05-17T11:00"),
        ],
    )
    k2 = kit.chain(
        "k2",
        [
            ("open", "2026-05-16T09:00"),
            ("ballot", "twice", "kiosk", "2026-05-16T10:30"),
            ("ballot", "c", "kiosk", "2026-05-16T10:45"),
            ("ballot", "d", "kiosk", "2026-05-16T11:00"),
        ],
    )
    from sync.central import import_bundle

    with kit.open() as c:
        import_bundle(c.store, c.election, kit.bundle("k1", k1), now=NOW)
        import_bundle(c.store, c.election, kit.bundle("k2", k2, first=1, last=2), now=NOW)
        import_bundle(c.store, c.election, kit.bundle("k2", k2, first=4, last=4), now=NOW)
    return kit  # fmt: skip


@pytest.fixture
def app(kit):
    return central_app(kit.home)


@pytest.fixture
def client(app):
    return organiser(app.test_client())


def test_pages_need_a_login(app):
    anon = app.test_client()
    for url in ("/organisateur/", "/organisateur/stands", "/organisateur/imports",
                "/organisateur/doublons", "/organisateur/participation"):  # fmt: skip
        r = anon.get(url)
        assert r.status_code == 302 and "/organisateur/connexion" in r.headers["Location"], url
    assert anon.post("/organisateur/publier").status_code in (302, 400)


def test_login_sets_a_strict_http_only_cookie_and_refuses_a_wrong_password(app):
    anon = app.test_client()
    token = csrf(anon, "/organisateur/connexion")
    r = anon.post(
        "/organisateur/connexion", data={"csrf_token": token, "password": "nope nope nope"}
    )
    assert r.status_code == 401 and "Mot de passe incorrect" in r.get_data(as_text=True)
    r = anon.post("/organisateur/connexion", data={"csrf_token": token, "password": PASSWORD})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    assert r.headers["Location"] == "/organisateur/"


def test_secure_cookie_option_behind_tls(kit):
    anon = central_app(kit.home, SECURE_COOKIES=True).test_client()
    token = csrf(anon, "/organisateur/connexion")
    r = anon.post("/organisateur/connexion", data={"csrf_token": token, "password": PASSWORD})
    assert "Secure" in r.headers["Set-Cookie"]


def test_login_without_csrf_token_is_refused(app):
    r = app.test_client().post("/organisateur/connexion", data={"password": PASSWORD})
    assert r.status_code == 400 and "Formulaire expiré" in r.get_data(as_text=True)


def test_lockout_after_repeated_failures_even_with_the_right_password(kit):
    ticks = [0.0]
    anon = central_app(kit.home, CENTRAL_MONOTONIC=lambda: ticks[0]).test_client()
    token = csrf(anon, "/organisateur/connexion")
    for _ in range(5):
        assert (
            anon.post(
                "/organisateur/connexion", data={"csrf_token": token, "password": "wrong password"}
            ).status_code
            == 401
        )
    r = anon.post("/organisateur/connexion", data={"csrf_token": token, "password": PASSWORD})
    assert r.status_code == 429 and "Trop d&#39;essais" in r.get_data(as_text=True)
    ticks[0] = 901.0
    assert (
        anon.post(
            "/organisateur/connexion", data={"csrf_token": token, "password": PASSWORD}
        ).status_code
        == 302
    )


def test_login_never_redirects_off_site(app):
    anon = app.test_client()
    token = csrf(anon, "/organisateur/connexion")
    r = anon.post(
        "/organisateur/connexion?next=//evil.example/",
        data={"csrf_token": token, "password": PASSWORD},
    )
    assert r.headers["Location"] == "/organisateur/"


def test_stands_page_shows_certificate_sync_ballots_and_chain_state(client, kit):
    page = client.get("/organisateur/stands").get_data(as_text=True)
    fingerprint = kit.devices["k1"].certificate.fingerprint
    assert fingerprint in page
    k1 = page[
        page.index('<th scope="row" class="nowrap">k1</th>') : page.index(
            '<th scope="row" class="nowrap">k2</th>'
        )
    ]
    k2 = page[page.index('<th scope="row" class="nowrap">k2</th>') :]
    assert "<td>complète</td>" in k1 and ">3<" in k1
    assert "<strong>incomplète</strong>" in k2
    assert "2026-05-16 12:00:00 UTC" in page


def test_import_log_lists_every_import(client):
    page = client.get("/organisateur/imports").get_data(as_text=True)
    assert page.count("<tr><td>2026-05-16 12:00:00 UTC</td>") == 3
    assert "importé" in page


def held_group(kit):
    with kit.open() as c:
        from sync.groups import central_key, signing_key

        body = refresh_groups(
            c.store, c.election, central_key(c.home), signing_key(c.home), now=NOW
        )
    assert len(body["groups"]) == 1
    return body["groups"][0]


def test_refresh_button_finds_the_group_and_shows_no_choice(client, kit):
    token = csrf(client, "/organisateur/doublons")
    assert "Aucun groupe" in client.get("/organisateur/doublons").get_data(as_text=True)
    r = client.post("/organisateur/doublons/actualiser", data={"csrf_token": token})
    assert r.status_code == 302
    page = client.get("/organisateur/doublons").get_data(as_text=True)
    assert page.count('class="group"') == 1
    assert "k1, borne, 2026-05-16 10:15" in page and "k2, borne, 2026-05-16 10:30" in page
    # Never the ballot's choices: no project id of the mini election appears.
    assert not re.search(r"\b(d[123]|c[12])\b", page)


def test_a_decision_is_a_signed_record_and_releases_the_group(client, kit):
    group = held_group(kit)
    keep = group["members"][0]
    prefix = f"g{group['id'][:16]}"
    token = csrf(client, "/organisateur/doublons")
    r = client.post(f"/organisateur/doublons/{group['id']}", data={
        f"{prefix}-csrf_token": token, f"{prefix}-keep": keep,
        f"{prefix}-reason": "Premier vote, vérifié sur la liste.", f"{prefix}-by": "Maite Etxeberri"})  # fmt: skip
    assert r.status_code == 302, r.get_data(as_text=True)
    with open_central(kit.home) as c:
        (body,) = adjudication_bodies(c.store, c.election)
        assert body["group"] == group["id"] and body["keep"] == [keep]
        assert body["by"] == "Maite Etxeberri" and body["time"] == "2026-05-16T12:00"
        assert current_groups(c.store, c.election)["groups"][0]["id"] == group["id"]
    assert "Aucun groupe" in client.get("/organisateur/doublons").get_data(as_text=True)


def test_an_incomplete_decision_is_refused_and_nothing_is_recorded(client, kit):
    group = held_group(kit)
    prefix = f"g{group['id'][:16]}"
    token = csrf(client, "/organisateur/doublons")
    r = client.post(f"/organisateur/doublons/{group['id']}", data={
        f"{prefix}-csrf_token": token, f"{prefix}-keep": "aucun", f"{prefix}-reason": "", f"{prefix}-by": "M"})  # fmt: skip
    assert r.status_code == 400 and "Ce champ est obligatoire." in r.get_data(as_text=True)
    with open_central(kit.home) as c:
        assert adjudication_bodies(c.store, c.election) == []


def test_turnout_per_stand_day_and_hour_with_chart_and_table(client):
    page = client.get("/organisateur/participation").get_data(as_text=True)
    for key in ("stands", "days", "hours"):
        assert f'id="turnout-{key}"' in page
    rows = dict(
        re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td></tr>', page)
    )
    assert rows["k1"] == "3" and rows["k2"] == "2"  # k2's third ballot is in the missing piece
    assert rows["2026-05-16"] == "4" and rows["2026-05-17"] == "1"
    assert rows["10 h"] == "2" and rows["09 h"] == "1" and rows["11 h"] == "2"


def test_publish_makes_the_public_results_appear(client, kit):
    public = central_app(kit.home).test_client()
    assert "pas encore publiés" in public.get("/resultats").get_data(as_text=True)
    token = csrf(client, "/organisateur/")
    r = client.post("/organisateur/publier", data={"csrf_token": token})
    assert r.status_code == 302
    assert "Résultats publiés." in client.get("/organisateur/").get_data(as_text=True)
    page = public.get("/resultats").get_data(as_text=True)
    assert "3 bulletins comptés" in page and "2 bulletins sont encore en attente" in page


def test_logout_ends_the_session(client):
    token = csrf(client, "/organisateur/")
    client.post("/organisateur/deconnexion", data={"csrf_token": token})
    assert client.get("/organisateur/").status_code == 302


def test_behind_a_proxy_the_lockout_counts_per_client(kit):
    anon = central_app(kit.home, PROXIES=1).test_client()
    token = csrf(anon, "/organisateur/connexion")
    for _ in range(5):
        anon.post("/organisateur/connexion", data={"csrf_token": token, "password": "wrong password"},
                  headers={"X-Forwarded-For": "203.0.113.9"})  # fmt: skip
    other = anon.post("/organisateur/connexion", data={"csrf_token": token, "password": PASSWORD},
                      headers={"X-Forwarded-For": "198.51.100.7"})  # fmt: skip
    assert other.status_code == 302


def test_after_purge_the_groups_stay_listed_and_cannot_be_refreshed(client, kit):
    from sync.publish import purge

    with open_central(kit.home) as c:
        purge(c, now=NOW, force=True)
    page = client.get("/organisateur/doublons").get_data(as_text=True)
    assert page.count('class="group"') == 1 and 'id="purged"' in page
    assert "/organisateur/doublons/actualiser" not in page  # no refresh button any more
    token = csrf(client, "/organisateur/doublons")
    r = client.post("/organisateur/doublons/actualiser", data={"csrf_token": token})
    assert r.status_code == 302
    page = client.get("/organisateur/doublons").get_data(as_text=True)
    # The notice is the page's own, not the library's English error ("... missing (purged?)").
    assert "(purged?)" not in page and 'class="notice notice-error"' in page
