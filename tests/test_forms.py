"""Reading ballots and identities: every rule's choices are kept and explained, never dropped."""

import datetime
import re
from pathlib import Path

import pytest
from fixtures_web import make_kiosk
from hypothesis import given, settings
from hypothesis import strategies as st
from test_resident import token
from werkzeug.datastructures import MultiDict

from app import create_app
from kiosk import forms
from kiosk.i18n import money
from sync.election import Section, load_source
from sync.errors import SelectionError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "cumulative-ranked.toml"


def demo_sections():
    """The demo election's sections (approval and knapsack)."""
    import datetime
    import tomllib

    from sync.demo import demo_source_text
    from sync.election import validate_source

    text = demo_source_text(datetime.datetime.now(datetime.UTC))
    return [Section(s) for s in validate_source(tomllib.loads(text))["sections"]]


def example_sections():
    """The example election's sections (cumulative and ranked)."""
    return [Section(s) for s in load_source(EXAMPLE)["sections"]]


@pytest.fixture(scope="module")
def flask_ctx():
    """A request context for gettext outside a page (French, the default)."""
    from flask import Flask
    from flask_babel import Babel

    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        yield


def valid(section, selection):
    try:
        section.validate(selection)
    except SelectionError:
        return False
    return True


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_problems_are_empty_exactly_when_the_rule_accepts_the_choice(flask_ctx, data):
    sections = demo_sections() + example_sections()
    section = data.draw(st.sampled_from(sections))
    ids = [p["id"] for p in section.projects]
    kind = section.ballot["type"]
    form = MultiDict()
    if kind in ("approval", "knapsack"):
        for pid in data.draw(st.lists(st.sampled_from(ids), unique=True)):
            form.add("project", pid)
    elif kind == "cumulative":
        for pid in ids:
            form.add(f"points-{pid}", str(data.draw(st.integers(0, 4))))
    else:
        for rank, pid in enumerate(data.draw(st.permutations(ids))):
            form.add(f"rank-{pid}", str(rank + 1) if data.draw(st.booleans()) else "")
    selection = forms.read_selection(section, form)
    found = forms.problems(section, selection, lambda n: money(n, "fr"))
    assert (found == []) == valid(section, selection), (selection, found)
    # Nothing the resident ticked is lost: the selection names every chosen project.
    if kind in ("approval", "knapsack"):
        assert sorted(form.getlist("project")) == selection


def test_ranked_duplicates_are_reported(flask_ctx):
    ranked = example_sections()[1]
    form = MultiDict({"rank-R1": "1", "rank-R2": "1", "rank-R3": ""})
    assert forms.ranks_clash(ranked, form) == [1]


@pytest.mark.parametrize("raw", ["²", "1e3", "-1", " ", "99999", "３"])
def test_odd_numbers_in_point_fields_count_as_nothing(flask_ctx, raw):
    cumulative = example_sections()[0]
    assert forms.read_selection(cumulative, MultiDict({"points-P1": raw})) == {}


@pytest.mark.parametrize(
    "typed, stored", [("1984-03-09", "1984-03-09"), ("9/3/1984", "1984-03-09")]
)
def test_birth_date_is_read_in_both_forms(flask_ctx, typed, stored):
    rules = {
        "identity_fields": ["last_name", "first_name", "birth_date"],
        "residence_declaration": None,
    }
    fields, declared, errors = forms.read_identity(
        MultiDict({"last_name": "  Lamarque  ", "first_name": "Jan", "birth_date": typed}), rules
    )
    assert errors == {} and fields["birth_date"] == stored and fields["last_name"] == "Lamarque"
    assert declared is False


RULES = {"identity_fields": ["last_name", "birth_date"], "residence_declaration": None}


def _boxes(day, month, year):
    return MultiDict(
        {"last_name": "Lamarque", "birth_date-day": day, "birth_date-month": month}
        | {"birth_date-year": year}
    )


@settings(deadline=None)
@given(day=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2026, 1, 1)))
def test_birth_date_boxes_are_read_as_day_month_year(flask_ctx, day):
    form = _boxes(str(day.day), f"{day.month:02d}", str(day.year))
    fields, _declared, errors = forms.read_identity(form, RULES, today=datetime.date(2026, 5, 1))
    assert errors == {} and fields["birth_date"] == day.isoformat()


@pytest.mark.parametrize(
    "day, month, year",
    [("14", "07", "2030"), ("31", "02", "1950"), ("", "07", "1990"), ("14", "7", "90")]
    + [("١٤", "07", "1990"), ("14", "07", "1e3"), ("0", "07", "1990")],
)
def test_bad_or_future_birth_dates_are_field_errors(flask_ctx, day, month, year):
    fields, _declared, errors = forms.read_identity(
        _boxes(day, month, year), RULES, today=datetime.date(2026, 5, 1)
    )
    assert set(errors) == {"birth_date"} and errors["birth_date"]
    assert forms.date_parts(_boxes(day, month, year)) == {
        "day": day,
        "month": month,
        "year": year,
    }


@pytest.fixture
def example_client(tmp_path):
    home = make_kiosk(tmp_path / "kiosk", EXAMPLE)
    app = create_app({"HOME": str(home), "TESTING": True})
    yield app, app.test_client()
    app.extensions["urne_kiosk"]["store"].close()


def test_cumulative_and_ranked_ballots_in_the_browser_shapes(example_client):
    app, client = example_client
    tok = token(client.get("/"))
    client.post("/language", data={"csrf_token": tok, "lang": "en"})  # not an election language
    client.post("/start", data={"csrf_token": tok})
    checked = client.post(
        "/check-in",
        data={
            "csrf_token": tok,
            "last_name": "Lamarque",
            "first_name": "Jan",
            "birth_date": "1990-01-02",
            "commune": "coarraze",
            "declaration": "yes",
        },
    )
    assert checked.location.endswith("/ballot/0"), checked.get_data(as_text=True)[:2000]
    page = client.get("/ballot/0").get_data(as_text=True)
    assert 'name="points-P1"' in page and "Share 5 points" in page
    over = client.post("/ballot/0", data={"csrf_token": tok, "points-P1": "3", "points-P2": "3"})
    assert over.status_code == 422 and "You gave 6 points but you have 5" in over.get_data(
        as_text=True
    )
    assert re.search(
        r'name="points-P2".*?<option value="3" selected', over.get_data(as_text=True), re.S
    )
    nxt = client.post("/ballot/0", data={"csrf_token": tok, "points-P1": "3", "points-P3": "2"})
    assert nxt.location.endswith("/ballot/1")
    clash = client.post("/ballot/1", data={"csrf_token": tok, "rank-R1": "1", "rank-R2": "1"})
    assert clash.status_code == 422 and "same rank" in clash.get_data(as_text=True)
    ranked = client.post("/ballot/1", data={"csrf_token": tok, "rank-R3": "1", "rank-R1": "2"})
    assert ranked.location.endswith("/review")
    # English interface on a French and Occitan election: the French texts say they are French.
    assert re.search(r'<h1 lang="fr">Répartissez vos points</h1>', page)
    review = client.get("/review").get_data(as_text=True)
    assert "3 points" in review and "Rank 1:" in review
    assert client.post("/confirm", data={"csrf_token": tok}).location.endswith("/receipt")
    body = (
        app.extensions["urne_kiosk"]["store"]
        .db.conn.execute("SELECT body FROM records WHERE kind = 'ballot'")
        .fetchone()[0]
    )
    assert b'"points":{"P1":3,"P3":2}' in body and b'"classement":["R3","R1"]' in body
    assert b'"lang":"fr"' in body  # English interface, French texts: the record says French
