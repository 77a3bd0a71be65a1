"""The kiosk's languages: complete catalogues, compiled files in step, every page in five languages."""

import gettext
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st
from test_resident import begin, text, token

from kiosk.i18n import NATIVE_NAMES, money, money_format, paragraphs

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "kiosk" / "translations"
LANGS = ["fr", "en", "es", "eu", "oc"]


def catalogue(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


@pytest.mark.parametrize("lang", LANGS)
def test_catalogue_is_complete_without_fuzzy_or_empty_entries(lang):
    cat = catalogue(lang)
    assert len(cat) > 100
    for message in cat:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(s.strip() for s in strings), f"{lang}: empty msgstr for {message.id!r}"
        assert "fuzzy" not in message.flags, f"{lang}: fuzzy entry {message.id!r}"


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != "en"])
def test_catalogue_is_really_translated(lang):
    cat = catalogue(lang)
    same = [m.id for m in cat if m.id and isinstance(m.id, str) and m.string == m.id]
    # A few words are the same in some languages ("Error", "Points", "Canton: ..."); no more.
    assert len(same) <= 6, f"{lang}: left in English: {same}"


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_match_between_source_and_translation(lang):
    for message in catalogue(lang):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        want = set(re.findall(r"%\((\w+)\)s", ids[-1]))
        for s in strings:
            assert set(re.findall(r"%\((\w+)\)s", s)) <= want | {"num"}, (lang, message.id)
            if len(ids) == 1:
                assert set(re.findall(r"%\((\w+)\)s", s)) == want, (lang, message.id)


@pytest.mark.parametrize("lang", LANGS)
def test_compiled_catalogue_matches_its_source(lang):
    mo = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo"
    with open(mo, "rb") as f:
        compiled = gettext.GNUTranslations(f)
    for message in catalogue(lang):
        if not message.id or isinstance(message.id, tuple):
            continue
        assert compiled.gettext(message.id) == message.string, (
            f"{lang}: messages.mo is stale for {message.id!r}: run pybabel compile"
        )


def test_catalogues_hold_every_string_of_the_pages(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with open(pot, "rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    for lang in LANGS:
        have = {m.id for m in catalogue(lang) if m.id}
        missing = sorted(map(str, wanted - have))
        assert not missing, f"{lang}: strings not in the catalogue (re-extract): {missing[:5]}"


@pytest.mark.parametrize(
    "lang, start, title",
    [
        ("fr", "Commencer à voter", "Choisissez votre langue"),
        ("en", "Start voting", "Choose your language"),
        ("es", "Empezar a votar", "Elija su idioma"),
        ("eu", "Hasi bozkatzen", "Aukeratu zure hizkuntza"),
        ("oc", "Començar de votar", "Causissètz vòstra lenga"),
    ],
)
def test_language_switch_changes_interface_and_election_texts(client, lang, start, title):
    tok = token(client.get("/"))
    switched = client.post("/language", data={"csrf_token": tok, "lang": lang, "next": "/"})
    assert switched.status_code == 302
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert f'<html lang="{lang}"' in html
    assert start in text(page) and title in text(page)
    election_titles = {
        "fr": "Budget participatif des Pyrénées-Atlantiques",
        "en": "Pyrénées-Atlantiques participatory budget",
        "es": "Presupuesto participativo de Pirineos Atlánticos",
        "eu": "Pirinio Atlantikoetako aurrekontu parte-hartzaileak",
        "oc": "Budgèt participatiu dels Pirenèus Atlantics",
    }
    assert election_titles[lang] in text(page)


def test_each_language_button_is_named_in_its_own_language(client):
    html = client.get("/").get_data(as_text=True)
    for code, name in NATIVE_NAMES.items():
        assert re.search(rf'value="{code}" lang="{code}"[^>]*>{name}</button>', html), code


def test_an_unknown_language_is_refused(client):
    tok = token(client.get("/"))
    assert client.post("/language", data={"csrf_token": tok, "lang": "de"}).status_code == 400
    assert '<html lang="fr"' in client.get("/").get_data(as_text=True)


def test_the_whole_way_through_in_basque(client):
    tok = token(client.get("/"))
    client.post("/language", data={"csrf_token": tok, "lang": "eu"})
    tok, checked = begin(client)
    ballot = client.get("/ballot/0")
    assert "Departamendu osorako proiektuak" in text(ballot)
    assert "Aukeratu" in text(ballot)
    client.post("/ballot/0", data={"csrf_token": tok, "project": ["D01"]})
    client.post("/ballot/1", data={"csrf_token": tok, "project": ["T02"]})
    assert "Berretsi nire botoa" in text(client.get("/review"))
    client.post("/confirm", data={"csrf_token": tok})
    assert "Eskerrik asko" in text(client.get("/receipt"))


def test_refusal_is_explained_in_the_residents_language(client):
    tok = token(client.get("/"))
    client.post("/language", data={"csrf_token": tok, "lang": "es"})
    _tok, refused = begin(
        client,
        {
            "last_name": "García",
            "first_name": "Ana",
            "birth_date": "2021-01-01",
            "postcode": "64000",
            "declaration": "yes",
        },
    )
    assert "Hay que tener al menos 11 años" in text(refused)


@pytest.mark.parametrize(
    "lang, amount, expected",
    [
        ("fr", 600000, "600\u202f000\u00a0€"),
        ("en", 600000, "€600,000"),
        ("es", 1500000, "1.500.000\u00a0€"),
        ("fr", 12.5, "12,50\u00a0€"),
        ("eu", 645000, "645.000\u00a0€"),
        ("oc", 645000, "645\u202f000\u00a0€"),
    ],
)
def test_money_is_written_the_languages_way(lang, amount, expected):
    assert money(amount, lang) == expected


def _as_the_script_writes(amount, fmt):
    """static/js/ballot.js's money(): groups of 3 with the server's signs, cents when any."""
    whole, cents = divmod(round(amount * 100), 100)
    digits = f"{whole:,}".replace(",", fmt["group"])
    if cents:
        digits += f"{fmt['decimal']}{cents:02d}"
    return fmt["template"].replace("{n}", digits)


@pytest.mark.parametrize("lang", LANGS)
@given(amount=st.integers(0, 10**9) | st.decimals(0, 10**7, places=2).map(float))
def test_the_money_format_handed_to_the_script_writes_what_the_server_writes(lang, amount):
    assert _as_the_script_writes(amount, money_format(lang)) == money(amount, lang)


def test_paragraphs_join_hard_wrapped_lines_and_keep_titles_apart():
    got = paragraphs("Vos données\nPour éviter un double vote,\nnous demandons.\n\nFin.")
    assert got == ["Vos données", "Pour éviter un double vote, nous demandons.", "Fin."]


@pytest.mark.parametrize("lang", LANGS)
def test_every_resident_page_renders_in_each_language(client, lang):
    tok = token(client.get("/"))
    client.post("/language", data={"csrf_token": tok, "lang": lang})
    pages = [client.get("/")]
    tok, _checked = begin(client)
    pages.append(
        client.post("/ballot/0", data={"csrf_token": tok, "project": ["D01", "D02", "D03", "D04"]})
    )
    client.post("/ballot/0", data={"csrf_token": tok, "project": ["D01"]})
    every = [f"T0{i}" for i in range(1, 8)]
    pages.append(client.post("/ballot/1", data={"csrf_token": tok, "project": every}))
    client.post("/ballot/1", data={"csrf_token": tok, "project": ["T01"]})
    pages.append(client.get("/review"))
    client.post("/confirm", data={"csrf_token": tok})
    pages.append(client.get("/receipt"))
    pages.append(client.get("/missing-page"))
    english = [
        "Continue",
        "Check your vote",
        "Start voting",
        "Your receipt code",
        "Too many projects",
    ]
    for page in pages:
        assert f'<html lang="{lang}"' in page.get_data(as_text=True)
        if lang != "en":
            leftovers = [s for s in english if re.search(rf"\b{s}\b", text(page))]
            assert not leftovers, f"{lang}: English left on {page.request.path}: {leftovers}"
