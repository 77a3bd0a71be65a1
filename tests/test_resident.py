"""The resident's way through, driven through Flask's test client with CSRF on (no JavaScript)."""

import re

import pytest

IDENTITY = {
    "last_name": "Etcheverry",
    "first_name": "Maite",
    "birth_date": "1980-05-01",
    "postcode": "64100",
    "declaration": "yes",
}


def token(response):
    """The CSRF token of a rendered page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match, "no CSRF token in the page"
    return match.group(1)


def text(response):
    """The page's visible text, whitespace collapsed (tags removed)."""
    html = response.get_data(as_text=True)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace("&#39;", "'")


def begin(client, identity=IDENTITY):
    """Welcome, start, check in; return (token, check-in response)."""
    tok = token(client.get("/"))
    started = client.post("/start", data={"csrf_token": tok})
    assert started.status_code == 302 and started.location.endswith("/check-in")
    return tok, client.post("/check-in", data={"csrf_token": tok, **identity})


def vote(client, departement=("D01", "D02"), territoires=("T01",), identity=IDENTITY):
    """A whole vote; return the receipt page."""
    tok, checked = begin(client, identity)
    assert checked.status_code == 302, text(checked)
    first = client.post("/ballot/0", data={"csrf_token": tok, "project": list(departement)})
    assert first.location.endswith("/ballot/1"), text(first)
    second = client.post("/ballot/1", data={"csrf_token": tok, "project": list(territoires)})
    assert second.location.endswith("/review"), text(second)
    confirmed = client.post("/confirm", data={"csrf_token": tok})
    assert confirmed.location.endswith("/receipt")
    return client.get("/receipt")


def stored(app):
    """(ballots, voter tags, all records) in the kiosk's database."""
    db = app.extensions["urne_kiosk"]["store"].db.conn
    ballots = db.execute("SELECT count(*) FROM records WHERE kind = 'ballot'").fetchone()[0]
    tags = db.execute("SELECT count(*) FROM voter_tags").fetchone()[0]
    total = db.execute("SELECT count(*) FROM records").fetchone()[0]
    return ballots, tags, total


def test_whole_vote_in_french_commits_one_ballot_and_shows_its_receipt(app, client):
    welcome = client.get("/")
    assert '<html lang="fr"' in welcome.get_data(as_text=True)
    assert "Commencer à voter" in text(welcome)
    receipt = vote(client)
    assert receipt.status_code == 200
    code = re.search(r'id="receipt-code">([^<]+)<', receipt.get_data(as_text=True)).group(1)
    assert re.fullmatch(r"[A-Z0-9]{4,6}-[A-Z0-9]{4,6}", code)
    assert "Merci, votre vote est enregistré" in text(receipt)
    assert stored(app)[:2] == (1, 1)
    body = (
        app.extensions["urne_kiosk"]["store"]
        .db.conn.execute("SELECT body FROM records WHERE kind = 'ballot'")
        .fetchone()[0]
    )
    assert b'"departement":["D01","D02"]' in body and b'"territoires":["T01"]' in body
    assert b'"lang":"fr"' in body


def test_receipt_code_is_derived_from_the_stored_ballot(app, client):
    from sync.tags import receipt_code

    receipt = vote(client)
    store = app.extensions["urne_kiosk"]["store"]
    ballot_id = store.db.conn.execute(
        "SELECT ballot_id FROM records WHERE kind='ballot'"
    ).fetchone()[0]
    assert receipt_code(store.receipt_key, ballot_id) in receipt.get_data(as_text=True)


def test_receipt_qr_code_is_an_svg_with_a_name_and_no_style(client):
    html = vote(client).get_data(as_text=True)
    svg = re.search(r"<svg[^>]*>", html).group(0)
    assert 'role="img"' in svg and "aria-label=" in svg
    assert "style" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_age_refusal_says_why_and_stores_nothing(app, client):
    before = stored(app)
    _tok, refused = begin(client, dict(IDENTITY, birth_date="2020-03-04"))
    assert refused.status_code == 403
    assert "au moins 11 ans" in text(refused)
    assert stored(app) == before
    # The flow is gone: the ballot is not reachable after a refusal.
    assert client.get("/ballot/0").status_code == 302


def test_postcode_refusal_says_why_and_stores_nothing(app, client):
    before = stored(app)
    _tok, refused = begin(client, dict(IDENTITY, postcode="75011"))
    assert refused.status_code == 403
    assert "code postal" in text(refused)
    assert stored(app) == before


def test_missing_declaration_and_bad_fields_are_explained_and_kept_out_of_storage(app, client):
    before = stored(app)
    _tok, page = begin(
        client, dict(IDENTITY, declaration="", postcode="64A", birth_date="31/02/1990")
    )
    assert page.status_code == 422
    words = text(page)
    assert "5 chiffres" in words and "pas une vraie date" in words and "cocher la case" in words
    assert 'aria-invalid="true"' in page.get_data(as_text=True)
    assert stored(app) == before


def test_date_typed_by_hand_is_accepted(client):
    _tok, page = begin(client, dict(IDENTITY, birth_date="01/05/1980"))
    assert page.status_code == 302 and page.location.endswith("/ballot/0")


def test_already_voted_at_this_stand(app, client):
    vote(client)
    client.post("/reset", data={"csrf_token": token(client.get("/"))})
    # The same person, typed a little differently (case, spaces), is recognised.
    _tok, again = begin(client, dict(IDENTITY, last_name=" ETCHEVERRY ", first_name="maite"))
    assert again.status_code == 403
    # Said once (the heading), then why and what to do.
    assert text(again).count("Vous avez déjà voté à ce stand") == 1
    assert "adressez-vous à l'agent" in text(again)
    assert stored(app)[:2] == (1, 1)


def test_approval_over_the_maximum_is_explained_and_choices_are_kept(client):
    tok, _ = begin(client)
    page = client.post(
        "/ballot/0", data={"csrf_token": tok, "project": ["D01", "D02", "D03", "D04"]}
    )
    assert page.status_code == 422
    assert "3 au maximum" in text(page)
    html = page.get_data(as_text=True)
    for pid in ("D01", "D02", "D03", "D04"):
        assert re.search(rf'value="{pid}"[^>]*checked', html), f"{pid} silently dropped"


def test_approval_below_the_minimum_is_explained(client):
    tok, _ = begin(client)
    page = client.post("/ballot/0", data={"csrf_token": tok, "action": "next"})
    assert page.status_code == 422 and "au moins 1 projet" in text(page)


def test_knapsack_over_budget_is_explained_and_counter_works_without_javascript(client):
    tok, _ = begin(client)
    client.post("/ballot/0", data={"csrf_token": tok, "project": ["D01"]})
    recount = client.post(
        "/ballot/1", data={"csrf_token": tok, "project": ["T01"], "action": "update"}
    )
    assert recount.status_code == 200
    words = text(recount)
    assert "Dépensé : 85 000 €" in words.replace("\u202f", " ").replace("\xa0", " ")
    assert "Reste : 515 000 €" in words.replace("\u202f", " ").replace("\xa0", " ")
    assert '<meter id="budget-meter"' in recount.get_data(as_text=True)
    every = [f"T0{i}" for i in range(1, 8)]
    over = client.post("/ballot/1", data={"csrf_token": tok, "project": every, "action": "next"})
    assert over.status_code == 422
    assert "plus que le budget" in text(over)


def test_unknown_project_ids_are_ignored_not_stored(app, client):
    tok, _ = begin(client)
    page = client.post("/ballot/0", data={"csrf_token": tok, "project": ["D01", "NOPE"]})
    assert page.location.endswith("/ballot/1")
    assert "NOPE" not in client.get("/review").get_data(as_text=True)


def test_review_can_go_back_to_a_section_and_return(client):
    tok, _ = begin(client)
    client.post("/ballot/0", data={"csrf_token": tok, "project": ["D01"]})
    client.post("/ballot/1", data={"csrf_token": tok, "project": []})
    review = client.get("/review")
    assert "vote blanc" in text(review)
    back = client.post("/ballot/0", data={"csrf_token": tok, "project": ["D02"]})
    assert back.location.endswith("/review")


def test_blank_section_is_allowed_only_when_the_rule_allows_it(app, client):
    receipt = vote(client, departement=("D03",), territoires=())
    assert receipt.status_code == 200
    body = (
        app.extensions["urne_kiosk"]["store"]
        .db.conn.execute("SELECT body FROM records WHERE kind = 'ballot'")
        .fetchone()[0]
    )
    assert b'"territoires":[]' in body


def test_session_is_cleared_after_the_receipt(app, client):
    receipt = vote(client)
    code = re.search(r'id="receipt-code">([^<]+)<', receipt.get_data(as_text=True)).group(1)
    done = client.post("/reset", data={"csrf_token": token(receipt)})
    assert done.location.endswith("/")
    with client.session_transaction() as sess:
        assert "flow" not in sess and "lang" not in sess
    assert client.get("/receipt").status_code == 302
    assert code not in client.get("/").get_data(as_text=True)
    assert len(app.extensions["urne_kiosk"]["flows"]) == 0


def test_idle_flow_expires_on_the_server_and_nothing_typed_remains(app, client):
    flows = app.extensions["urne_kiosk"]["flows"]
    now = [1000.0]
    flows.clock = lambda: now[0]
    tok, _ = begin(client)
    client.post("/ballot/0", data={"csrf_token": tok, "project": ["D01"], "action": "update"})
    now[0] += app.config["IDLE_SECONDS"] + 1
    page = client.get("/ballot/0", follow_redirects=True)
    assert "après un moment sans activité" in text(page)
    assert "Etcheverry" not in page.get_data(as_text=True)
    assert len(flows) == 0
    assert client.get("/review").status_code == 302


def test_keepalive_keeps_the_flow_and_answers_gone_when_expired(app, client):
    flows = app.extensions["urne_kiosk"]["flows"]
    now = [0.0]
    flows.clock = lambda: now[0]
    tok, _ = begin(client)
    for _ in range(3):
        now[0] += app.config["IDLE_SECONDS"] - 5
        assert client.post("/keepalive", headers={"X-CSRFToken": tok}).status_code == 204
    now[0] += app.config["IDLE_SECONDS"] + 1
    assert client.post("/keepalive", headers={"X-CSRFToken": tok}).status_code == 410


def test_idle_reset_from_the_page_script_wipes_the_flow(app, client):
    tok, _ = begin(client)
    page = client.post("/reset", data={"csrf_token": tok, "reason": "idle"}, follow_redirects=True)
    assert "après un moment sans activité" in text(page)
    assert client.get("/ballot/0").status_code == 302


def test_identity_is_never_written_in_clear(app, client, kiosk_home):
    vote(client, identity=dict(IDENTITY, last_name="Zubiriaguirre", first_name="Xabier"))
    # In memory, only the receipt outlives the cast: the identity and choices are dropped.
    flows = app.extensions["urne_kiosk"]["flows"]
    assert [set(f["data"]) for f in flows._flows.values()] == [{"step", "receipt"}]
    app.extensions["urne_kiosk"]["store"].db.conn.execute("PRAGMA wal_checkpoint(FULL)")
    for path in kiosk_home.rglob("*"):
        if path.is_file():
            data = path.read_bytes().lower()
            assert b"zubiriaguirre" not in data and b"xabier" not in data, path


def test_flow_pages_need_a_flow(client):
    for path in ("/check-in", "/ballot/0", "/review", "/receipt"):
        response = client.get(path)
        assert response.status_code == 302 and response.location.endswith("/"), path


def test_confirm_twice_casts_once(app, client):
    tok, _ = begin(client)
    client.post("/ballot/0", data={"csrf_token": tok, "project": ["D01"]})
    client.post("/ballot/1", data={"csrf_token": tok, "project": ["T02"]})
    client.post("/confirm", data={"csrf_token": tok})
    again = client.post("/confirm", data={"csrf_token": tok})
    assert again.location.endswith("/receipt")
    assert stored(app)[:2] == (1, 1)


def test_closed_stand_offers_no_ballot(app, client):
    import datetime

    store = app.extensions["urne_kiosk"]["store"]
    store.close_session(datetime.datetime.now(datetime.UTC), clock="system")
    welcome = client.get("/")
    assert "Le stand est fermé" in text(welcome) and "/start" not in welcome.get_data(as_text=True)
    refused = client.post("/start", data={"csrf_token": token(welcome)}, follow_redirects=True)
    assert "Le stand est fermé" in text(refused)
    assert client.get("/check-in").status_code == 302


def test_display_switches_persist_in_the_session_without_javascript(client):
    tok = token(client.get("/"))
    client.post("/display", data={"csrf_token": tok, "text_size": "large", "next": "/"})
    client.post("/display", data={"csrf_token": tok, "contrast": "high", "next": "/"})
    html = client.get("/").get_data(as_text=True)
    assert 'class="text-large contrast-high' in html
    assert 'aria-pressed="true"' in html


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil", "/\t/evil.example", "/\n/x"]
)
def test_switches_never_redirect_off_the_kiosk(client, target):
    tok = token(client.get("/"))
    response = client.post("/display", data={"csrf_token": tok, "contrast": "high", "next": target})
    assert response.location == "/"


def test_ballot_page_and_its_assets_weigh_under_150_kb_and_stay_on_this_host(client):
    tok, _ = begin(client)
    page = client.get("/ballot/1")
    html = page.get_data(as_text=True)
    total = len(page.get_data())
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
    for asset in set(assets):
        response = client.get(asset)
        assert response.status_code == 200, asset
        total += len(response.get_data())
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    assert total < 150 * 1024, f"{total} bytes"


def test_welcome_arms_the_idle_reset_only_when_a_choice_was_left_behind(client):
    assert "idle-reset" not in client.get("/").get_data(as_text=True)
    client.post("/language", data={"csrf_token": token(client.get("/")), "lang": "eu"})
    assert 'id="idle-reset"' in client.get("/").get_data(as_text=True)


# Fixes of the tester's findings ------------------------------------------------------------


def parts(day, month, year, **extra):
    """A check-in form with the birth date typed in its three boxes."""
    identity = {k: v for k, v in IDENTITY.items() if k != "birth_date"}
    return (
        dict(
            identity, **{"birth_date-day": day, "birth_date-month": month, "birth_date-year": year}
        )
        | extra
    )


def flows_text(app):
    """Everything the in-memory flows hold, as text (to look for a name in it)."""
    return repr(app.extensions["urne_kiosk"]["flows"]._flows)


def test_welcome_links_to_agent_mode_with_an_accessible_name(client):
    html = client.get("/").get_data(as_text=True)
    link = re.search(r'<a href="/agent/login">(.*?)</a>', html, re.S)
    assert link, "no way into agent mode from the kiosk screen"
    name = " ".join(re.sub(r"<[^>]+>", " ", link.group(1)).split())
    assert name.startswith("Agent") and "personnel" in name
    assert client.get("/agent/login").status_code == 200


def test_birth_date_is_three_labelled_number_boxes_not_a_browser_date(client):
    tok = token(client.get("/"))
    client.post("/start", data={"csrf_token": tok})
    html = client.get("/check-in").get_data(as_text=True)
    assert 'type="date"' not in html
    for part, label in (("day", "Jour"), ("month", "Mois"), ("year", "Année")):
        box = re.search(rf'<input[^>]*name="birth_date-{part}"[^>]*>', html, re.S).group(0)
        assert 'inputmode="numeric"' in box and 'type="text"' in box
        fid = re.search(r'id="([^"]+)"', box).group(1)
        assert re.search(rf'<label for="{fid}">{label}</label>', html), part
    assert re.search(r"<legend>Date de naissance</legend>", html)
    # The error summary's link lands on the first box.
    assert 'id="f-birth_date"' in html


def test_birth_date_boxes_are_read_day_month_year_whatever_the_browser(app, client):
    _tok, page = begin(client, parts("04", "03", "1950"))
    assert page.status_code == 302, text(page)
    store = app.extensions["urne_kiosk"]["store"]
    expected = store.tag_for(dict(IDENTITY, birth_date="1950-03-04"))
    flow = next(iter(app.extensions["urne_kiosk"]["flows"]._flows.values()))["data"]
    assert flow["tag"] == expected


@pytest.mark.parametrize(
    "day, month, year, words",
    [
        ("14", "07", "2030", "dans le futur"),
        ("31", "02", "1950", "pas une vraie date"),
        ("14", "", "1990", "le jour, le mois et l'année"),
        ("14", "07", "90", "4 chiffres"),
        ("1a", "07", "1990", "chiffres"),
    ],
)
def test_a_bad_or_future_birth_date_is_a_field_error_keeping_what_was_typed(
    app, client, day, month, year, words
):
    before = stored(app)
    _tok, page = begin(client, parts(day, month, year))
    assert page.status_code == 422, text(page)
    html = page.get_data(as_text=True)
    assert words in text(page) and 'href="#f-birth_date"' in html
    assert re.search(rf'name="birth_date-day"[^>]*value="{day}"', html, re.S)
    assert re.search(rf'name="birth_date-year"[^>]*value="{year}"', html, re.S)
    assert 'value="Etcheverry"' in html  # the rest of the form is kept too
    assert re.search(r'id="f-declaration"[^>]* checked', html)
    assert re.search(r'name="birth_date-day"[^>]*aria-invalid="true"', html, re.S)
    assert "Vous ne pouvez pas voter ici" not in text(page)
    assert stored(app) == before


def test_after_check_in_the_flow_keeps_only_the_tag_never_the_identity(app, client):
    _tok, page = begin(client, parts("01", "05", "1980"))
    assert page.status_code == 302
    held = flows_text(app)
    for typed in ("Etcheverry", "Maite", "64100", "1980"):
        assert typed not in held, f"{typed!r} kept in memory after check-in"
    flow = next(iter(app.extensions["urne_kiosk"]["flows"]._flows.values()))["data"]
    assert set(flow) == {"step", "tag", "selections"} and len(flow["tag"]) == 32


def test_the_ballot_cast_from_the_tag_counts_as_the_same_voter(app, client):
    vote(client)
    store = app.extensions["urne_kiosk"]["store"]
    assert store.has_voted(store.tag_for(IDENTITY))


def test_a_time_the_agent_corrected_reaches_the_resident_ballot(app, client):
    import datetime

    from kiosk import clock
    from sync.canonical import parse_canonical

    with app.app_context():
        # The device clock is 3 days behind; the agent confirms the real time at opening.
        clock.confirm(clock.system_now() + datetime.timedelta(days=3))
        expected = app.extensions["urne_kiosk"]["store"].local(clock.now())
    vote(client)
    body = (
        app.extensions["urne_kiosk"]["store"]
        .db.conn.execute("SELECT body FROM records WHERE kind = 'ballot'")
        .fetchone()[0]
    )
    record = parse_canonical(body)
    assert record["clock"] == "agent"
    assert record["time"][:10] == expected.date().isoformat()


def test_over_budget_is_said_in_words_and_drawn_differently_without_javascript(client):
    tok, _ = begin(client)
    client.post("/ballot/0", data={"csrf_token": tok, "project": ["D01"]})
    under = client.post(
        "/ballot/1", data={"csrf_token": tok, "project": ["T01"], "action": "update"}
    ).get_data(as_text=True)
    assert 'class="budget-bar"' in under
    assert re.search(r'id="budget-flag"[^>]* hidden', under)
    every = [f"T0{i}" for i in range(1, 8)]
    over = client.post("/ballot/1", data={"csrf_token": tok, "project": every, "action": "update"})
    html = over.get_data(as_text=True)
    assert 'class="budget-bar budget-over"' in html
    flag = re.search(r'<strong class="budget-flag" id="budget-flag"([^>]*)>(.*?)</strong>', html)
    assert flag and "hidden" not in flag.group(1) and "Budget dépassé" in flag.group(2)


def test_the_ballot_hands_the_server_money_format_to_its_script(client):
    from kiosk.i18n import money

    tok = token(client.get("/"))
    client.post("/language", data={"csrf_token": tok, "lang": "eu"})
    tok, _ = begin(client)
    client.post("/ballot/0", data={"csrf_token": tok, "project": ["D01"]})
    html = client.get("/ballot/1").get_data(as_text=True)
    group = re.search(r'data-money-group="([^"]*)"', html).group(1)
    template = re.search(r'data-money-template="([^"]*)"', html).group(1)
    assert group == "." and template.replace("{n}", "645.000") == money(645000, "eu")


def test_youth_projects_carry_a_youth_badge(client):
    tok, _ = begin(client)
    html = client.get("/ballot/0").get_data(as_text=True)
    cards = re.findall(r'<li class="project.*?</li>\s*(?=<li class="project|</ul>)', html, re.S)
    badged = [c for c in cards if 'class="badge">Jeunesse<' in c]
    assert badged and len(badged) < len(cards)


def test_the_home_page_says_one_ballot_in_two_parts(client):
    words = text(client.get("/"))
    assert "Un bulletin en 2 parties" in words and "2 bulletins" not in words


def test_the_privacy_box_has_one_title(client):
    tok = token(client.get("/"))
    client.post("/start", data={"csrf_token": tok})
    html = client.get("/check-in").get_data(as_text=True)
    box = re.search(r'<section class="privacy".*?</section>', html, re.S).group(0)
    assert len(re.findall(r"<h2", box)) == 1
    assert "Vos données personnelles" in box and "Protection de vos données" not in box
