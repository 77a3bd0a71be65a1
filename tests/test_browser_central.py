"""The central's pages in a real browser (Debian chromium): axe-core, keyboard, 200 % zoom, CSP."""

import json

import pytest
from fixtures_web import axe_check, new_page, require_browser, shot

from central.snapshot import SNAPSHOT

ORGANISER_PAGES = ["/organisateur/", "/organisateur/stands", "/organisateur/imports",
                   "/organisateur/doublons", "/organisateur/participation"]  # fmt: skip


@pytest.fixture(autouse=True)
def _browser():
    require_browser()


def test_public_pages_have_no_axe_violation_and_no_csp_error(page, live_central):
    for path in ("/resultats", "/resultats/feuille", "/recu"):
        page.goto(live_central.url + path)
        axe_check(page)
        shot(page, path.strip("/").replace("/", "-"))
    assert page.errors == []


def test_receipt_lookup_by_keyboard_only(page, live_central):
    lookup = json.loads((live_central.home / SNAPSHOT).read_text())["lookup"]
    page.goto(live_central.url + "/recu")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    page.get_by_label("Code du reçu").focus()
    page.keyboard.type(lookup["counted"][0])
    page.keyboard.press("Enter")
    page.wait_for_selector(".receipt-answer")
    assert "Compté." in page.inner_text(".receipt-answer")
    axe_check(page)
    page.get_by_label("Code du reçu").fill("pas un code")
    page.get_by_role("button", name="Vérifier").click()
    page.wait_for_selector(".field-error")
    axe_check(page)
    shot(page, "receipt-error")
    # The refused code answers 400 on purpose; anything else (a CSP violation) is a failure.
    assert [e for e in page.errors if "status of 400" not in e] == []


def test_organiser_pages_have_no_axe_violation(page, live_central, sim_password):
    page.goto(live_central.url + "/organisateur/connexion")
    axe_check(page)
    page.get_by_label("Mot de passe de l'organisateur").fill(sim_password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/organisateur/")
    for path in ORGANISER_PAGES:
        page.goto(live_central.url + path)
        axe_check(page)
        shot(page, path.strip("/").replace("/", "-"))
    assert page.errors == []


def test_a_resident_checks_a_receipt_in_basque_through_the_language_switch(page, live_central):
    lookup = json.loads((live_central.home / SNAPSHOT).read_text())["lookup"]
    page.goto(live_central.url + "/resultats")
    page.get_by_role("navigation", name="Langue").get_by_role("link", name="Euskara").click()
    page.wait_for_url("**/resultats?lang=eu")
    assert page.get_attribute("html", "lang") == "eu"
    assert page.inner_text("h1") == "Emaitzak"
    axe_check(page)
    shot(page, "results-eu")
    # The choice follows the resident to the receipt page, with no ?lang= in the link.
    page.get_by_role("link", name="Nire ordainagiria egiaztatu").click()
    page.get_by_label("Ordainagiriaren kodea").fill(lookup["counted"][0])
    page.get_by_role("button", name="Egiaztatu").click()
    page.wait_for_selector(".receipt-answer")
    assert "Zenbatua." in page.inner_text(".receipt-answer")
    axe_check(page)
    shot(page, "receipt-eu")
    assert page.errors == []


@pytest.mark.parametrize("path", ["/resultats?lang=es", "/resultats?lang=oc", "/recu?lang=en"])
def test_public_pages_in_other_languages_have_no_axe_violation(page, live_central, path):
    page.goto(live_central.url + path)
    assert page.get_attribute("html", "lang") == path[-2:]
    axe_check(page)
    assert page.errors == []


def test_focus_is_visible_on_links_and_buttons(page, live_central):
    page.goto(live_central.url + "/resultats")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    style = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, s.boxShadow]; })()"
    )
    assert style[0] != "none" and style[1] != "0px"


@pytest.mark.parametrize(
    "path", ["/resultats", "/recu", "/organisateur/connexion", "/resultats?lang=eu"]
)
def test_pages_reflow_at_200_percent_zoom(chromium_browser, live_central, request, path):
    # 200 % zoom of a 1280 px window is a 640 px CSS viewport.
    pg = new_page(chromium_browser, request.node.name, viewport={"width": 640, "height": 450})
    try:
        pg.goto(live_central.url + path)
        overflow = pg.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 200 % zoom"
        shot(pg, "zoom-200")
        axe_check(pg)
    finally:
        pg.context.close()
