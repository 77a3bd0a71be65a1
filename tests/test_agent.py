"""Agent mode through the Flask test client: real store, real SQLite, real crypto, CSRF on."""

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from fixtures_kiosk import resident

from kiosk import usb
from sync.bundle import verify_bundle
from sync.canonical import parse_canonical

PAGES = [
    "/agent/",
    "/agent/open",
    "/agent/close",
    "/agent/void",
    "/agent/paper",
    "/agent/export",
    "/agent/clock",
]


class Clock:
    """The device clock the app reads (config CLOCK), moved by hand."""

    def __init__(self):
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(app):
    c = Clock()
    app.config["CLOCK"] = c
    return c


@pytest.fixture
def store(app):
    return app.extensions["urne_kiosk"]["store"]


def token(client, path="/agent/login"):
    page = client.get(path)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def post(client, path, data=None, page=None):
    data = dict(data or {})
    data.setdefault("csrf_token", token(client, page or path))
    return client.post(path, data=data)


@pytest.fixture
def agent(client, kiosk_pin, clock):
    """A client logged into agent mode."""
    response = post(client, "/agent/login", {"pin": kiosk_pin})
    assert response.status_code == 302 and response.location == "/agent/"
    return client


def rows(store, kind=None):
    query = (
        "SELECT seq, kind, body FROM records"
        + (" WHERE kind = ?" if kind else "")
        + " ORDER BY seq"
    )
    return [
        (seq, k, parse_canonical(body))
        for seq, k, body in store.db.conn.execute(query, (kind,) if kind else ())
    ]


def cast(store, n, now):
    selections = {}
    for section in store.election.sections:
        cheapest = sorted(section.projects, key=lambda p: p["cost"])
        selections[section.id] = sorted(
            p["id"] for p in cheapest[: max(1, section.ballot.get("min", 0))]
        )
    return store.cast(selections, identity=resident(n), lang="fr", now=now, clock="system")


# Login, lockout, session --------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_agent_page_needs_the_pin(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location == "/agent/login"


def test_the_right_pin_opens_agent_mode_and_the_status(agent, store):
    page = agent.get("/agent/")
    assert page.status_code == 200
    assert store.device in page.text
    assert store.certificate.fingerprint in page.text
    assert 'id="stand-state"' in page.text and "state-open" in page.text


def test_wrong_pins_lock_for_a_delay_the_page_states(client, kiosk_pin, clock):
    for remaining in (4, 3, 2, 1):
        response = post(client, "/agent/login", {"pin": "999999"})
        assert response.status_code == 403
        assert f">Wrong PIN. {remaining} tries" in response.text or str(remaining) in response.text
    fifth = post(client, "/agent/login", {"pin": "999999"})
    assert fifth.status_code == 429
    assert re.search(r'id="pin-error">[^<]*30', fifth.text)
    # Even the right PIN is refused during the lockout, and the page counts down.
    clock.advance(10)
    locked = post(client, "/agent/login", {"pin": kiosk_pin})
    assert locked.status_code == 429
    assert re.search(r'id="pin-error">[^<]*20', locked.text)
    clock.advance(21)
    assert post(client, "/agent/login", {"pin": kiosk_pin}).status_code == 302


def test_the_lockout_grows_after_more_wrong_tries(client, clock):
    for _ in range(5):
        post(client, "/agent/login", {"pin": "999999"})
    clock.advance(31)
    again = post(client, "/agent/login", {"pin": "999999"})
    assert again.status_code == 429
    assert re.search(r'id="pin-error">[^<]*1 minute', again.text)


def _pin_error(page):
    return re.search(r'id="pin-error">([^<]*)<', page.text).group(1)


WRONG = r"(Wrong PIN\.|Code PIN faux\.)"  # this try was checked and was wrong
LOCKED = r"(locked: try again in|bloqué : réessayez dans)"


def test_pin_messages_agree_in_number_and_say_when_the_try_was_wrong(client, kiosk_pin, clock):
    for _ in range(3):
        post(client, "/agent/login", {"pin": "999999"})
    fourth = _pin_error(post(client, "/agent/login", {"pin": "999999"}))
    assert re.search(r"\b1 (try|essai)\b", fourth), fourth  # singular: not "1 essais"
    fifth = _pin_error(post(client, "/agent/login", {"pin": "999999"}))
    assert re.match(WRONG, fifth) and re.search(LOCKED, fifth), fifth
    # During the lockout nothing is checked: the page must not call the PIN wrong.
    clock.advance(5)
    during = _pin_error(post(client, "/agent/login", {"pin": kiosk_pin}))
    assert not re.match(WRONG, during) and re.search(LOCKED, during), during
    # Once it expired, one wrong try locks again at once: the page says it was wrong, too.
    clock.advance(30)
    after = _pin_error(post(client, "/agent/login", {"pin": "999999"}))
    assert re.match(WRONG, after) and re.search(LOCKED + r" 1 minute", after), after


def test_the_pin_is_never_logged_nor_kept_in_the_session(client, kiosk_pin, clock, caplog):
    caplog.set_level(logging.DEBUG)
    post(client, "/agent/login", {"pin": "135790"})
    post(client, "/agent/login", {"pin": kiosk_pin})
    assert "135790" not in caplog.text and kiosk_pin not in caplog.text
    with client.session_transaction() as sess:
        assert kiosk_pin not in repr(dict(sess))


def test_agent_mode_times_out(agent, app, clock):
    app.config["AGENT_IDLE_SECONDS"] = 60
    assert agent.get("/agent/").status_code == 200
    clock.advance(59)
    assert agent.get("/agent/").status_code == 200  # each page extends the session
    clock.advance(61)
    response = agent.get("/agent/")
    assert response.location == "/agent/login"
    assert agent.get("/agent/").location == "/agent/login"


def test_leaving_agent_mode_goes_back_to_the_residents(agent):
    response = post(agent, "/agent/logout", page="/agent/")
    assert response.status_code == 302 and response.location == "/"
    assert agent.get("/agent/").location == "/agent/login"


def test_forms_without_a_csrf_token_are_refused_and_change_nothing(agent, store):
    before = store.status(datetime.now(UTC)).records
    assert agent.post("/agent/close", data={}).status_code == 400
    assert agent.post("/agent/login", data={"pin": "1"}).status_code == 400
    assert agent.post("/agent/void", data={"reason": "asked to"}).status_code == 400
    assert store.status(datetime.now(UTC)).records == before
    assert store.session().open


@pytest.mark.parametrize("path", PAGES + ["/agent/login"])
def test_agent_pages_are_not_cached_and_carry_no_inline_code(agent, path):
    response = agent.get(path, follow_redirects=True)
    assert "no-store" in response.headers["Cache-Control"]
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    html = response.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\sstyle=", html) and "<style" not in html
    assert not re.search(r"\son[a-z]+=", html)
    for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S):
        assert 'name="csrf_token"' in form


# Open and close -----------------------------------------------------------------------------


def test_close_shows_the_count_and_grouped_head_then_open_again(agent, store, clock):
    cast(store, 1, clock.now)
    cast(store, 2, clock.now)
    response = post(agent, "/agent/close")
    assert response.location == "/agent/closed"
    page = agent.get("/agent/closed")
    assert re.search(r'id="closed-count">2<', page.text)
    head = store.status(clock.now).head
    grouped = " ".join(head[i : i + 4] for i in range(0, 64, 4))
    assert f'id="closed-head">{grouped}<' in page.text
    last = rows(store)[-1]
    assert last[1] == "session_close" and last[2]["ballots"] == 2
    assert not store.session().open
    # A reload shows the same figures (the agent may be copying them); then open again.
    assert f'id="closed-head">{grouped}<' in agent.get("/agent/closed").text
    form = agent.get("/agent/open").text
    date = re.search(r'name="date" type="text" value="([^"]+)"', form).group(1)
    time = re.search(r'name="time" type="text" value="([^"]+)"', form).group(1)
    shown = {"date": date, "time": time, "shown_date": date, "shown_time": time}
    assert post(agent, "/agent/open", shown).location == "/agent/"
    opened = rows(store, "session_open")[-1][2]
    assert opened["clock"] == "agent"
    assert opened["time"] == f"{date}T{time}"
    assert store.session().open


def test_the_agent_corrects_a_wrong_clock_when_opening(agent, store, clock):
    post(agent, "/agent/close")
    clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # the device lost an hour and more
    data = {
        "date": "2026-11-26",
        "time": "10:30",
        "shown_date": "2026-11-26",
        "shown_time": "09:00",
    }
    assert post(agent, "/agent/open", data).location == "/agent/"
    assert rows(store, "session_open")[-1][2]["time"] == "2026-11-26T10:30"
    # Every later time stamp carries the correction: the close is 10:34 local, not 09:04.
    clock.advance(4 * 60)
    post(agent, "/agent/close")
    assert rows(store, "session_close")[-1][2]["time"] == "2026-11-26T10:34"


@pytest.mark.parametrize(
    "date, time",
    [
        ("2026-13-01", "10:00"),
        ("11/26/2026", "10:00"),  # month first, as an en-US date widget would send it
        ("2026-11-26", "25:00"),
        ("2026-11-26", "10:00 AM"),
        ("1970-01-01", "00:00"),
    ],
)
def test_a_bad_date_or_time_opens_nothing(agent, store, date, time):
    post(agent, "/agent/close")
    before = len(rows(store))
    response = post(agent, "/agent/open", {"date": date, "time": time})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    assert len(rows(store)) == before and not store.session().open


def test_open_when_already_open_and_close_when_closed_change_nothing(agent, store):
    before = len(rows(store))
    assert agent.get("/agent/open").location == "/agent/"
    post(agent, "/agent/close")
    assert agent.get("/agent/close").location == "/agent/"
    assert len(rows(store)) == before + 1


# Void ---------------------------------------------------------------------------------------


def test_void_the_last_ballot_within_the_window(agent, store, clock):
    cast(store, 3, clock.now)
    clock.advance(120)
    response = post(agent, "/agent/void", {"reason": "  pressed confirm\tby mistake "})
    assert response.location == "/agent/"
    void = rows(store, "void")[-1][2]
    ballot = rows(store, "ballot")[-1][2]
    assert void["ballot"] == ballot["ballot"] and void["reason"] == "pressed confirm by mistake"
    # Nothing deleted; the resident may vote again.
    assert len(rows(store, "ballot")) == 1
    assert not store.has_voted(store.tag_for(resident(3)))
    assert post(agent, "/agent/void", {"reason": "twice"}).status_code == 409


def test_void_after_the_window_is_refused(agent, app, store, clock):
    app.config["VOID_WINDOW_SECONDS"] = 300
    cast(store, 4, clock.now)
    clock.advance(200)
    agent.get("/agent/")  # the agent is still there
    clock.advance(101)
    response = post(agent, "/agent/void", {"reason": "changed their mind"})
    assert response.status_code == 409
    assert rows(store, "void") == []
    assert store.has_voted(store.tag_for(resident(4)))


@pytest.mark.parametrize("reason", ["", "ok", "x" * 201, "bad\x00char"])
def test_void_needs_a_real_reason(agent, store, clock, reason):
    cast(store, 5, clock.now)
    response = post(agent, "/agent/void", {"reason": reason})
    assert response.status_code == 422
    assert rows(store, "void") == []


def test_void_with_no_ballot_is_refused(agent, store):
    assert post(agent, "/agent/void", {"reason": "nothing to void"}).status_code == 409
    assert rows(store, "void") == []


# Paper entry --------------------------------------------------------------------------------


def paper_form(store, n, picks=None, **identity):
    person = resident(n, **identity)
    data = {k: v for k, v in person.items() if k != "declaration"}
    data["declaration"] = "yes"
    data["lang"] = "fr"
    for section in store.election.sections:
        chosen = (picks or {}).get(section.id)
        if chosen is None:
            chosen = [min(section.projects, key=lambda p: p["cost"])["id"]]
        data[f"{section.id}:project"] = chosen
    return data


def test_a_paper_ballot_is_recorded_on_the_paper_channel(agent, store):
    response = post(agent, "/agent/paper", paper_form(store, 6))
    assert response.location == "/agent/paper"
    ballot = rows(store, "ballot")[-1][2]
    assert ballot["channel"] == "paper"
    cheapest = {
        s.id: [min(s.projects, key=lambda p: p["cost"])["id"]] for s in store.election.sections
    }
    assert ballot["selections"] == cheapest
    assert store.has_voted(store.tag_for(resident(6)))


def test_a_paper_ballot_breaking_a_rule_is_explained_and_not_stored(agent, store):
    approval = next(s for s in store.election.sections if s.ballot["type"] == "approval")
    too_many = [p["id"] for p in approval.projects][: approval.ballot["max"] + 1]
    response = post(agent, "/agent/paper", paper_form(store, 7, {approval.id: too_many}))
    assert response.status_code == 422
    assert f'href="#s-{approval.id}"' in response.text
    # What was typed comes back, nothing is dropped silently.
    assert all(f'value="{pid}" checked' in response.text for pid in too_many)
    assert rows(store, "ballot") == []


def test_a_paper_problem_names_its_section(agent, store):
    approval = next(s for s in store.election.sections if s.ballot["type"] == "approval")
    response = post(agent, "/agent/paper", paper_form(store, 17, {approval.id: []}))
    assert response.status_code == 422
    title = store.election.text(approval.title, "fr")
    link = re.search(rf'href="#s-{approval.id}">([^<]*)<', response.text).group(1)
    assert link.startswith(title.replace("'", "&#39;")), link
    # The birth date comes back day first, as the hint asks it to be typed.
    day = resident(17)["birth_date"]
    assert f'value="{day[8:10]}/{day[5:7]}/{day[:4]}"' in response.text


def test_paper_hints_speak_of_the_voter_not_to_them(agent):
    page = agent.get("/agent/paper").text
    hint = re.search(r'id="h-first_name">([^<]*)<', page).group(1)
    assert "vos" not in hint.lower().split() and "your" not in hint.lower().split(), hint


@pytest.mark.parametrize("path", ["/agent/open", "/agent/clock", "/agent/paper"])
def test_no_agent_field_uses_the_browsers_locale_bound_date_or_time_widget(agent, store, path):
    if path == "/agent/open":
        post(agent, "/agent/close")
    page = agent.get(path).text
    assert not re.search(r'type="(date|time|datetime-local)"', page)
    for name in ("date", "time", "birth_date"):
        if f'name="{name}"' in page:
            assert re.search(rf'name="{name}" type="text"[^>]* pattern="[^"]+"', page), name


def test_a_paper_birth_date_is_read_day_first(agent, store):
    response = post(agent, "/agent/paper", paper_form(store, 18, birth_date="04/03/1950"))
    assert response.location == "/agent/paper"
    assert store.has_voted(store.tag_for(resident(18, birth_date="1950-03-04")))


def test_the_stand_opens_with_a_date_typed_day_first(agent, store, clock):
    post(agent, "/agent/close")
    clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    data = {"date": "26/11/2026", "time": "10h30", "shown_date": "", "shown_time": ""}
    assert post(agent, "/agent/open", data).location == "/agent/"
    assert rows(store, "session_open")[-1][2]["time"] == "2026-11-26T10:30"


def test_a_paper_ballot_of_an_ineligible_person_is_refused(agent, store):
    response = post(agent, "/agent/paper", paper_form(store, 8, postcode="75001"))
    assert response.status_code == 403
    assert 'id="paper-refused"' in response.text
    assert rows(store, "ballot") == []


def test_a_paper_ballot_with_missing_identity_is_refused(agent, store):
    data = paper_form(store, 9)
    data["birth_date"] = ""
    response = post(agent, "/agent/paper", data)
    assert response.status_code == 422 and 'href="#f-birth_date"' in response.text
    assert rows(store, "ballot") == []


def test_a_second_paper_ballot_of_the_same_person_is_refused(agent, store):
    post(agent, "/agent/paper", paper_form(store, 10))
    response = post(agent, "/agent/paper", paper_form(store, 10))
    assert response.status_code == 409
    assert len(rows(store, "ballot")) == 1


# Export -------------------------------------------------------------------------------------


@pytest.fixture
def drive(app, tmp_path):
    out = tmp_path / "usb"
    out.mkdir()
    app.config["EXPORT_DIR"] = str(out)
    return out


def test_export_writes_a_bundle_that_verifies_and_shows_count_and_head(agent, store, clock, drive):
    cast(store, 11, clock.now)
    page = agent.get("/agent/export")
    assert f'value="{drive}"' in page.text
    response = post(agent, "/agent/export", {"drive": str(drive)})
    assert response.location == "/agent/exported"
    shown = agent.get("/agent/exported").text
    [bundle] = sorted(drive.glob("*.urne"))
    verified = verify_bundle(bundle, store.election, store.revocations)
    assert re.search(rf'id="export-count">{verified.count}<', shown)
    grouped = " ".join(verified.head[i : i + 4] for i in range(0, 64, 4))
    assert f'id="export-head">{grouped}<' in shown
    assert bundle.name in shown
    # Nothing new: said plainly; "everything" writes it all again.
    assert post(agent, "/agent/export", {"drive": str(drive)}).status_code == 409
    assert post(agent, "/agent/export", {"drive": str(drive), "all": "yes"}).status_code == 302


def test_export_only_to_a_listed_drive(agent, drive, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    response = post(agent, "/agent/export", {"drive": str(elsewhere)})
    assert response.status_code == 422
    assert list(elsewhere.iterdir()) == []


def test_export_without_any_drive_says_so(agent, app):
    app.config["EXPORT_DIR"] = None
    page = agent.get("/agent/export")
    assert page.status_code == 200
    mounted = usb.removable_drives()  # this machine's own removable drives, if any
    assert ('name="drive"' in page.text) == bool(mounted)
    if not mounted:
        assert 'class="button button-primary" href="/agent/export"' in page.text


# Sync ---------------------------------------------------------------------------------------


def test_sync_without_a_central_points_to_the_usb_export(agent, app):
    app.config["CENTRAL_URL"] = None
    assert post(agent, "/agent/sync", page="/agent/").location == "/agent/export"


def test_sync_with_no_network_says_to_use_a_usb_drive(agent, app, store, clock):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.config["CENTRAL_URL"] = f"http://127.0.0.1:{port}"
    home = agent.get("/agent/").text
    assert 'action="/agent/sync"' in home
    response = post(agent, "/agent/sync", page="/agent/")
    assert response.location == "/agent/sync"
    page = agent.get("/agent/sync")
    assert 'class="notice notice-error"' in page.text
    assert 'href="/agent/export"' in page.text


def test_the_chain_check_can_be_run_from_the_status(agent, store, clock):
    cast(store, 12, clock.now)
    response = post(agent, "/agent/check", page="/agent/")
    assert response.location == "/agent/"
    assert "notice-ok" in agent.get("/agent/").text


def _chain_state(page):
    cell = re.search(r'id="chain-state">(.*?)</td>', page.text, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", cell).split())


def test_the_status_chain_line_covers_every_record_and_says_when(agent, store, clock):
    for n in range(3):
        cast(store, 30 + n, clock.now)
    clock.advance(120)
    records = store.status(clock.now).records
    line = _chain_state(agent.get("/agent/"))
    when = store.local(clock.now).strftime("%Y-%m-%d %H:%M")
    assert re.search(rf"^OK {records}\b.* {when}\b", line), (records, when, line)
    assert store.chain.records == records and store.chain.ballots == 3


def test_the_status_page_says_when_the_chain_check_fails(agent, store, clock):
    cast(store, 40, clock.now)
    with store.db.conn:  # a voter tag lost behind the kiosk's back
        store.db.conn.execute("DELETE FROM voter_tags")
    cast(store, 41, clock.now)
    page = agent.get("/agent/")
    cell = re.search(r'id="chain-state">(.*?)</td>', page.text, re.S).group(1)
    assert 'class="status-bad"' in cell and "voter-tag set" in cell and "OK" not in cell


@pytest.fixture
def real_central(kiosk_home, tmp_path):
    """The real central app (central/api.py) of the demo election, served on loopback."""
    import threading

    from werkzeug.serving import make_server

    from app import create_app
    from sync.central_home import init_central

    demo = kiosk_home / "demo-election"
    home = tmp_path / "central"
    init_central(home, demo / "election.urne", demo / "central.key", "correct horse battery staple")
    server = make_server("127.0.0.1", 0, create_app({"HOME": str(home)}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_sync_now_sends_the_stand_to_the_central_and_says_so(
    agent, app, store, clock, real_central
):
    app.config["CENTRAL_URL"] = real_central
    cast(store, 13, clock.now)
    assert post(agent, "/agent/sync", page="/agent/").location == "/agent/sync"
    page = agent.get("/agent/sync").text
    assert 'class="notice notice-ok"' in page
    post(agent, "/agent/sync", page="/agent/")
    again = agent.get("/agent/sync").text
    assert 'class="notice notice-ok"' in again and again != page  # "already had everything"


def test_pairing_a_tablet_from_the_agent_screen(agent, app):
    app.config["PAIRING_REQUIRED"] = True
    assert 'action="/agent/pair"' in agent.get("/agent/").text
    page = post(agent, "/agent/pair", page="/agent/")
    assert page.status_code == 200
    assert "pairing-code" in page.text and "<svg" in page.text
    assert post(agent, "/agent/unpair", page="/agent/").location == "/agent/"


def test_agent_mode_opens_in_french_whatever_the_last_resident_chose(client, kiosk_pin, clock):
    with client.session_transaction() as sess:
        sess["lang"] = "eu"
        sess["flow"] = "a-resident-flow"
    post(client, "/agent/login", {"pin": kiosk_pin})
    assert '<html lang="fr"' in client.get("/agent/").text
    with client.session_transaction() as sess:
        assert "lang" not in sess and "flow" not in sess
