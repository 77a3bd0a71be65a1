"""The central's languages: complete catalogues, compiled files in step, public pages in five."""

import gettext
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fixtures_central_web import central_app, csrf, organiser

from central.i18n import PUBLIC_LANGUAGES, euros

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "central" / "translations"
# Files whose strings residents see: their msgids must be in all five catalogues.
PUBLIC_FILES = {"public.py", "i18n.py", "base.html", "_section.html", "error.html", "receipt.html",
                "results.html", "results_pending.html", "sheet.html"}  # fmt: skip


def catalogue(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def template():
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        return read_po(f)


def public_ids():
    return {
        m.id for m in template() if m.id and {Path(p).name for p, _ in m.locations} & PUBLIC_FILES
    }


@pytest.mark.parametrize("lang", PUBLIC_LANGUAGES)
def test_catalogue_is_complete_without_fuzzy_or_empty_entries(lang):
    cat = catalogue(lang)
    wanted = {m.id for m in template() if m.id} if lang in ("fr", "en") else public_ids()
    have = {m.id for m in cat if m.id}
    assert not sorted(wanted - have), f"{lang}: untranslated: {sorted(wanted - have)[:5]}"
    for message in cat:
        if message.id:
            assert message.string.strip(), f"{lang}: empty msgstr for {message.id!r}"
            assert "fuzzy" not in message.flags, f"{lang}: fuzzy entry {message.id!r}"


@pytest.mark.parametrize("lang", ["fr", "es", "eu", "oc"])
def test_catalogue_is_really_translated(lang):
    same = [m.id for m in catalogue(lang) if m.id and m.string == m.id]
    # A few words are the same in some languages ("Budget", "Points", "Pabulib (.pb): ..."); no more.
    assert len(same) <= 10, f"{lang}: left in English: {same}"


@pytest.mark.parametrize("lang", PUBLIC_LANGUAGES)
def test_placeholders_match_between_source_and_translation(lang):
    for message in catalogue(lang):
        if message.id:
            want = set(re.findall(r"%\((\w+)\)[sd]", message.id))
            assert set(re.findall(r"%\((\w+)\)[sd]", message.string)) == want, (lang, message.id)


@pytest.mark.parametrize("lang", PUBLIC_LANGUAGES)
def test_compiled_catalogue_matches_its_source(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = gettext.GNUTranslations(f)
    for message in catalogue(lang):
        if message.id:
            assert compiled.gettext(message.id) == message.string, (
                f"{lang}: messages.mo is stale for {message.id!r}: run pybabel compile"
            )


def test_template_holds_every_string_of_the_pages(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "central/babel.cfg",
         "-k", "_l", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with open(pot, "rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    have = {m.id for m in template() if m.id}
    assert wanted == have, (
        f"re-extract central/translations/messages.pot: {sorted(wanted ^ have)[:5]}"
    )


def test_no_french_msgid_is_left_in_the_code():
    accented = [m.id for m in template() if m.id and re.search(r"[àâçéèêëîïôûùœ]", m.id)]
    assert not accented, f"French msgids (msgids are English): {accented[:5]}"


# One sentence per language that only the right catalogue produces, per public page.
RESULTS = {"fr": "bulletins comptés", "en": "ballots counted", "es": "papeletas contadas",
           "eu": "boto zenbatu dira", "oc": "bulletins comptats"}  # fmt: skip
COUNTED = {"fr": "Compté.", "en": "Counted.", "es": "Contada.", "eu": "Zenbatua.", "oc": "Comptat."}
SHEET = {"fr": "Feuille de résultats", "en": "Results sheet", "es": "Hoja de resultados",
         "eu": "Emaitza-orria", "oc": "Fuèlha de resultats"}  # fmt: skip


@pytest.fixture
def public_client(sim_published):
    return central_app(sim_published).test_client()


@pytest.mark.parametrize("lang", PUBLIC_LANGUAGES)
def test_public_pages_render_in_each_language(public_client, sim_published, lang):
    import json

    from central.snapshot import SNAPSHOT

    page = public_client.get(f"/resultats?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}"' in page and RESULTS[lang] in page
    # The choice is remembered: the next pages need no ?lang=.
    assert SHEET[lang] in public_client.get("/resultats/feuille").get_data(as_text=True)
    code = json.loads((sim_published / SNAPSHOT).read_text())["lookup"]["counted"][0]
    token = csrf(public_client, "/recu")
    answer = public_client.post("/recu", data={"csrf_token": token, "code": code})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and COUNTED[lang] in text and f'<html lang="{lang}"' in text
    if lang != "fr":
        assert "Vérifier mon reçu" not in text and "Résultats" not in text


def test_the_language_switch_links_every_language_from_every_public_page(public_client):
    page = public_client.get("/recu?lang=eu").get_data(as_text=True)
    for lang in PUBLIC_LANGUAGES:
        assert f'href="/recu?lang={lang}" lang="{lang}" hreflang="{lang}"' in page
    assert 'href="/recu?lang=eu" lang="eu" hreflang="eu" aria-current="true"' in page


def test_an_unknown_language_falls_back_to_french(public_client):
    page = public_client.get("/resultats?lang=xx").get_data(as_text=True)
    assert '<html lang="fr"' in page


def test_organiser_pages_speak_french_and_english_only(sim_home):
    client = central_app(sim_home).test_client()
    client.get("/resultats?lang=eu")
    # Basque chosen on the public side: organiser pages fall back to French and offer fr/en.
    login = client.get("/organisateur/connexion").get_data(as_text=True)
    assert '<html lang="fr"' in login and "Mot de passe de l'organisateur" in login
    assert 'hreflang="eu"' not in login and 'hreflang="en"' in login
    client.get("/organisateur/connexion?lang=en")
    organiser(client, (sim_home.parent / "central-password.txt").read_text().strip())
    page = client.get("/organisateur/doublons").get_data(as_text=True)
    assert '<html lang="en"' in page and "Duplicates to decide" in page


@pytest.mark.parametrize(
    ("lang", "text"),
    [("fr", "12\u202f500\u00a0€"), ("en", "€12,500"), ("es", "12.500\u00a0€"),
     ("eu", "12.500\u00a0€"), ("oc", "12\u202f500\u00a0€"), ("fr", "99,50\u00a0€")],
)  # fmt: skip
def test_euros_are_written_the_way_each_language_writes_them(lang, text):
    amount = 99.5 if text.startswith("99") else 12500
    assert euros(amount, lang) == text
