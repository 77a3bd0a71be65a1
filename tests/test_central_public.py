"""Public pages over a simulated central: results, downloads, printable sheet, receipt lookup."""

import csv
import io
import json
import re

import pytest
from fixtures_central_web import central_app

from central.snapshot import SNAPSHOT, _ties
from sync.central_home import open_central
from sync.tally.pabulib import parse_pb

PROJECT_ID = re.compile(r"\b[DT]\d\d\b")


@pytest.fixture
def published(sim_published):
    return sim_published


@pytest.fixture
def client(published):
    return central_app(published).test_client()


def words(page):
    """The page's text as a reader sees it: entities decoded, no-break spaces as spaces."""
    import html

    return html.unescape(page).replace("\u00a0", " ").replace("\u202f", " ")


def snapshot(home):
    return json.loads((home / SNAPSHOT).read_text())


def test_before_publication_the_page_says_so_and_downloads_are_absent(sim_home):
    client = central_app(sim_home).test_client()
    page = client.get("/resultats").get_data(as_text=True)
    assert "pas encore publiés" in page
    assert not PROJECT_ID.search(page)
    for url in (
        "/resultats.json",
        "/resultats.csv",
        "/resultats/departement.pb",
        "/resultats/feuille",
    ):
        assert client.get(url).status_code == 404, url


def test_results_page_shows_each_section_with_chart_and_table(client, published):
    result = snapshot(published)["result"]
    page = client.get("/resultats").get_data(as_text=True)
    for sec in result["sections"]:
        assert f'id="chart-{sec["id"]}"' in page
        assert f'aria-labelledby="chart-{sec["id"]}-title"' in page
        table = page[page.index(f'id="h-{sec["id"]}"') :]
        for pid in sec["selected"]:
            row = re.search(
                rf'<tr class="funded">\s*<th scope="row"><span class="project-id">{pid}</span>',
                table,
            )
            assert row, pid
    text = words(page)
    assert (
        "Méthode des parts égales (complétée)" in text
        and "Les plus votés d'abord (glouton)" in text
    )
    assert "Comparaison des méthodes" in page
    ties = [t for r in snapshot(published)["ties"].values() for ts in r.values() for t in ts]
    assert ties  # the simulation (seed 3) has equal scores that the id order separated
    for t in ties:
        assert f"les projets {', '.join(t['tied'])} avaient le même score ({t['score']})" in page
    assert f"{result['ballots']['counted']} bulletins comptés" in page
    assert "Par canal" in page and "Par stand" in page and "Par jour" in page
    assert "1\u202f500\u202f000\u00a0€" in page or "1\u00a0500\u00a0000\u00a0€" in page


def test_security_headers_on_public_pages(client):
    r = client.get("/resultats")
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert "style=" not in r.get_data(as_text=True)
    assert "<script" not in r.get_data(as_text=True)


def test_json_download_is_the_tally_byte_for_byte(client, published):
    body = client.get("/resultats.json")
    assert body.status_code == 200
    stored = (published / "published" / "result.json").read_bytes()
    assert body.data == stored
    assert json.loads(body.data) == snapshot(published)["result"]


def test_csv_download_has_a_line_per_rule_and_project(client, published):
    result = snapshot(published)["result"]
    rows = list(csv.DictReader(io.StringIO(client.get("/resultats.csv").get_data(as_text=True))))
    expected = sum(len(s["results"]) * len(s["votes"]) for s in result["sections"])
    assert len(rows) == expected
    for sec in result["sections"]:
        first = [r for r in rows if r["section"] == sec["id"] and r["rule"] == sec["rule"]]
        assert {r["project"] for r in first if r["funded"] == "1"} == set(sec["selected"])
        assert {r["project"]: int(r["votes"]) for r in first} == sec["votes"]


def test_pabulib_download_parses_and_matches_the_tally(client, published):
    result = snapshot(published)["result"]
    for sec in result["sections"]:
        pb = parse_pb(client.get(f"/resultats/{sec['id']}.pb").data)
        assert pb.meta["rule"] == sec["rule"]
        assert int(pb.meta["num_votes"]) == result["ballots"]["counted"]
        assert set(pb.selected()) == set(sec["selected"])
        assert {p["project_id"]: int(p["votes"]) for p in pb.projects} == sec["votes"]
    assert client.get("/resultats/nope.pb").status_code == 404


def test_printable_sheet_uses_the_print_stylesheet_and_no_chart(client):
    page = client.get("/resultats/feuille").get_data(as_text=True)
    assert 'href="/static/central-print.css" media="print"' in page
    assert "<svg" not in page
    assert "Feuille de résultats" in page
    assert client.get("/static/central-print.css").status_code == 200


def receipt(client, code):
    page = client.get("/recu").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post("/recu", data={"csrf_token": token, "code": code})


def test_receipt_lookup_counted_held_and_unknown_never_shows_choices(client, published):
    lookup = snapshot(published)["lookup"]
    assert lookup["counted"] and lookup["held"]
    answers = {
        "counted": ("Compté.", lookup["counted"][0].lower().replace("-", " ")),
        "held": ("En attente de vérification.", lookup["held"][0]),
        "unknown": ("Introuvable.", "00000-00000"),
    }
    for state, (text, code) in answers.items():
        r = receipt(client, code)
        page = r.get_data(as_text=True)
        assert r.status_code == 200
        assert f"receipt-answer receipt-{state}" in page
        assert text in page
        assert not PROJECT_ID.search(page), state
        assert r.headers["Cache-Control"].startswith("no-store")


def test_a_ballot_received_after_publication_is_pending(client, published):
    with open_central(published) as c, c.store.write() as conn:
        conn.execute(
            "INSERT INTO receipts (ballot, code) VALUES (?, ?)", ("ff" * 16, "ZZZZZ-ZZZZZ")
        )
    page = receipt(client, "ZZZZZ-ZZZZZ").get_data(as_text=True)
    assert "En attente de vérification." in page


def test_a_malformed_receipt_code_is_explained(client):
    r = receipt(client, "hello")
    assert r.status_code == 400
    assert "Ce n&#39;est pas un code de reçu" in r.get_data(as_text=True)
    assert 'aria-invalid="true"' in r.get_data(as_text=True)


def test_receipt_lookup_is_rate_limited_per_client(published):
    ticks = [0.0]
    client = central_app(
        published, RECEIPT_RATE=3, CENTRAL_MONOTONIC=lambda: ticks[0]
    ).test_client()
    codes = [receipt(client, "00000-00000").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    ticks[0] = 61.0
    assert receipt(client, "00000-00000").status_code == 200


def test_receipt_form_needs_its_csrf_token(client):
    assert client.post("/recu", data={"code": "00000-00000"}).status_code == 400


def test_tie_notes_say_which_projects_the_id_order_separated():
    section = {
        "votes": {"A": 5, "B": 5, "C": 1},
        "results": [
            {"rule": "greedy", "selected": ["A"]},
            {"rule": "equalshares/add1", "selected": ["A", "C"]},
        ],
    }
    assert _ties(section) == {
        "greedy": [{"score": 5, "tied": ["A", "B"], "funded": ["A"], "by": "project id order"}]
    }
    section["results"][0]["selected"] = ["A", "B"]
    assert _ties(section) == {}
    section["results"][1]["ties"] = [{"score": 1, "tied": ["C"], "funded": []}]
    assert list(_ties(section)) == ["equalshares/add1"]


def test_healthz_and_html_errors(client):
    r = client.get("/healthz")
    assert r.json["role"] == "central" and r.json["ok"] is True and r.json["devices"] == 3
    r = client.get("/nulle-part")
    assert r.status_code == 404 and "Page introuvable" in r.get_data(as_text=True)


def test_an_equal_shares_tie_is_explained_too(client, published):
    import central.snapshot as snapshot_module

    path = published / SNAPSHOT
    data = json.loads(path.read_text())
    data["ties"]["departement"] = {
        "equalshares/add1": [
            {"round": 2, "tied": ["D02", "D05"], "chosen": "D02", "by": "project id order"}
        ]
    }
    path.write_text(json.dumps(data))
    snapshot_module._cache.clear()
    page = client.get("/resultats").get_data(as_text=True)
    assert "tour 2 : les projets D02, D05 revenaient au même prix par électeur" in words(page)
    assert "Choisi : D02." in words(page)


def test_a_tie_between_cantons_names_the_canton_order(client, published):
    import central.snapshot as snapshot_module

    path = published / SNAPSHOT
    data = json.loads(path.read_text())
    data["ties"]["departement"] = {
        "greedy": [
            {
                "score": 78,
                "tied": ["T03", "T06"],
                "funded": ["T03"],
                "by": "canton name order",
                "cantons": ["Pau-3", "Pays de Morlaàs et du Montanérès"],
                "stage": "per_canton",
            }
        ]
    }
    path.write_text(json.dumps(data))
    snapshot_module._cache.clear()
    page = words(client.get("/resultats").get_data(as_text=True))
    assert "l'ordre alphabétique des noms de cantons décide" in page
    assert "l'ordre des identifiants de projet décide" not in page
