"""The resident's way through in Debian's chromium against a real `urne kiosk serve` process."""

import re
import shutil
from urllib.parse import urlparse

import pytest
from fixtures_web import axe_check, new_page, shot, start_kiosk, stop_kiosk

pytestmark = pytest.mark.browser

ADULT = {
    "last_name": "Etxeberri",
    "first_name": "Maialen",
    "birth_date": "1984-03-09",
    "postcode": "64500",
}


@pytest.fixture(scope="module")
def live_kiosk(_demo_kiosk_template, tmp_path_factory):
    """One real kiosk server for this module (each test has its own browser context)."""
    home = tmp_path_factory.mktemp("browser-resident") / "kiosk"
    shutil.copytree(_demo_kiosk_template[0], home, symlinks=True)
    kiosk = start_kiosk(home)
    yield kiosk
    stop_kiosk(kiosk.process)


def resident(name):
    """A distinct adult resident of the area (each test votes once on the shared kiosk)."""
    return dict(ADULT, last_name=name)


def check_in(pg, identity=ADULT, declare=True):
    """Fill the identity form as a resident would (mouse and keyboard through Playwright)."""
    for name, value in identity.items():
        if name == "birth_date":
            # Three boxes: day, month, year (an ISO date here, for brevity).
            year, month, day = value.split("-")
            for part, typed in (("day", day), ("month", month), ("year", year)):
                pg.fill(f"input[name=birth_date-{part}]", typed)
            continue
        pg.fill(f"#f-{name}", value)
    if declare:
        pg.check("#f-declaration")


def no_script_errors(pg):
    """No CSP violation, script error or missing file (422/403 are the pages' own answers)."""
    errors = [e for e in pg.errors if not re.search(r"status of (422|403)", e)]
    assert not errors, f"console errors (CSP?): {errors}"


def test_full_vote_in_french_approval_then_knapsack_with_axe_on_every_page(live_kiosk, page):
    pg = page
    pg.goto(live_kiosk.url + "/")
    assert pg.locator("html").get_attribute("lang") == "fr"
    axe_check(pg)
    shot(pg, "welcome")
    pg.get_by_role("button", name="Commencer à voter").click()
    pg.wait_for_url("**/check-in")
    axe_check(pg)
    shot(pg, "check-in")
    check_in(pg, resident("Etxeberri"))
    pg.get_by_role("button", name="Continuer").click()
    pg.wait_for_url("**/ballot/0")
    # Approval section: the live counter follows each tick, the server recounts on submit.
    counter = pg.locator("#counter-text")
    assert "Choisis : 0 sur 3" in counter.inner_text()
    pg.check("input[value=D01]")
    pg.check("input[value=D03]")
    assert "Choisis : 2 sur 3. Reste : 1." in counter.inner_text()
    pg.check("input[value=D04]")
    pg.check("input[value=D05]")
    assert "décochez-en 1" in counter.inner_text()
    shot(pg, "approval-too-many")
    pg.get_by_role("button", name="Continuer").click()
    assert "3 au maximum" in pg.locator(".error-summary").inner_text()
    assert pg.locator("input[value=D05]").is_checked(), "a choice was silently dropped"
    axe_check(pg)
    shot(pg, "approval-explained")
    pg.uncheck("input[value=D05]")
    pg.get_by_role("button", name="Continuer").click()
    pg.wait_for_url("**/ballot/1")
    # Knapsack section: the budget bar shows spent and left.
    meter = pg.locator("#budget-meter")
    assert meter.get_attribute("max") == "600000"
    pg.check("input[value=T01]")
    assert pg.evaluate("document.getElementById('budget-meter').value") == 85000
    left = pg.locator("#left-text").inner_text().replace("\u202f", " ").replace("\xa0", " ")
    assert "515 000 €" in left
    axe_check(pg)
    shot(pg, "knapsack")
    pg.get_by_role("button", name="Continuer").click()
    pg.wait_for_url("**/review")
    review = pg.locator("main").inner_text()
    assert "Navettes à la demande" in review and "Total : 85" in review
    axe_check(pg)
    shot(pg, "review")
    pg.get_by_role("button", name="Confirmer mon vote").click()
    pg.wait_for_url("**/receipt")
    code = pg.locator("#receipt-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4,6}-[A-Z0-9]{4,6}", code)
    assert pg.get_by_role("img", name=re.compile(code)).count() == 1
    axe_check(pg)
    shot(pg, "receipt")
    pg.get_by_role("button", name="Terminer").click()
    pg.wait_for_url(live_kiosk.url + "/")
    # The back button reloads (no-store) and finds nothing of the previous resident.
    pg.go_back()
    assert code not in pg.content() and "Etxeberri" not in pg.content()
    shot(pg, "after-back-button")
    no_script_errors(pg)


def test_full_vote_in_occitan_with_large_text_and_high_contrast(live_kiosk, page):
    pg = page
    pg.goto(live_kiosk.url + "/")
    pg.locator("button[name=lang][value=oc]").click()
    assert pg.locator("html").get_attribute("lang") == "oc"
    pg.get_by_role("button", name="Tèxte mai grand").click()
    pg.get_by_role("button", name="Contraste naut").click()
    assert "contrast-high" in pg.locator("body").get_attribute("class")
    axe_check(pg)
    shot(pg, "welcome-oc-contrast")
    pg.get_by_role("button", name="Començar de votar").click()
    check_in(pg, resident("Lafita"))
    axe_check(pg)
    shot(pg, "check-in-oc")
    pg.get_by_role("button", name="Contunhar").click()
    pg.wait_for_url("**/ballot/0")
    assert "Projèctes per tot lo departament" in pg.locator("h1").inner_text()
    pg.check("input[value=D02]")
    axe_check(pg)
    shot(pg, "approval-oc")
    pg.get_by_role("button", name="Contunhar").click()
    pg.wait_for_url("**/ballot/1")
    pg.check("input[value=T02]")
    pg.check("input[value=T03]")
    axe_check(pg)
    shot(pg, "knapsack-oc")
    pg.get_by_role("button", name="Contunhar").click()
    pg.get_by_role("button", name="Confirmar mon vòte").click()
    pg.wait_for_url("**/receipt")
    assert "Mercés" in pg.locator("h1").inner_text()
    axe_check(pg)
    shot(pg, "receipt-oc")
    no_script_errors(pg)


def test_refused_check_in_says_why_and_the_next_try_starts_clean(live_kiosk, page):
    pg = page
    pg.goto(live_kiosk.url + "/")
    pg.get_by_role("button", name="Commencer à voter").click()
    pg.get_by_role("button", name="Continuer").click()
    assert pg.locator(".error-summary").is_visible()
    axe_check(pg)
    shot(pg, "check-in-empty")
    check_in(pg, dict(ADULT, birth_date="2019-06-01"))
    pg.get_by_role("button", name="Continuer").click()
    assert "au moins 11 ans" in pg.locator("main").inner_text()
    axe_check(pg)
    shot(pg, "refused-age")
    pg.get_by_role("button", name="Retour au début").click()
    pg.get_by_role("button", name="Commencer à voter").click()
    assert pg.input_value("#f-last_name") == ""
    no_script_errors(pg)
    pg.goto(live_kiosk.url + "/no-such-page")
    assert "Cette page n'existe pas" in pg.locator("main").inner_text()
    axe_check(pg)
    shot(pg, "not-found")


@pytest.fixture
def short_idle_kiosk(kiosk_home):
    """A live kiosk with a short idle delay (through URNE_* config), so the test waits seconds."""
    # A 6 s warning leaves axe (slow on a loaded machine) time to check the dialog.
    env = {"URNE_IDLE_SECONDS": "8", "URNE_IDLE_WARNING_SECONDS": "6"}
    kiosk = start_kiosk(kiosk_home, env=env)
    yield kiosk
    stop_kiosk(kiosk.process)


def test_idle_warning_then_reset_wipes_what_was_typed(short_idle_kiosk, page):
    pg, url = page, short_idle_kiosk.url
    pg.goto(url + "/")
    pg.get_by_role("button", name="Commencer à voter").click()
    pg.wait_for_url("**/check-in")
    pg.fill("#f-last_name", "Oihenart")
    warning = pg.get_by_role("alertdialog", name="Êtes-vous toujours là ?")
    warning.wait_for(state="visible", timeout=5000)
    shot(pg, "idle-warning", full_page=False)
    assert pg.evaluate("document.activeElement.id") == "idle-continue"
    # "I am still here" keeps everything (and tells the server the resident is still there).
    pg.keyboard.press("Enter")
    assert warning.is_hidden()
    assert pg.input_value("#f-last_name") == "Oihenart"
    warning.wait_for(state="visible", timeout=5000)
    axe_check(pg, context="#idle-warning")
    pg.wait_for_url(url + "/", timeout=9000)
    assert "sans activité" in pg.locator("main").inner_text()
    shot(pg, "idle-reset")
    pg.go_back()
    assert "Oihenart" not in pg.content()
    assert pg.url == url + "/"  # the expired check-in sends back to the welcome screen
    no_script_errors(pg)


def tab_to(pg, selector, limit=80):
    """Press Tab until the element matching `selector` has the focus; fail if it never does."""
    for _ in range(limit):
        pg.keyboard.press("Tab")
        if pg.evaluate("(s) => document.activeElement.matches(s)", selector):
            outline = pg.evaluate(
                "() => { const s = getComputedStyle(document.activeElement);"
                " return s.outlineStyle + ' ' + s.boxShadow; }"
            )
            assert not outline.startswith("none none"), f"no visible focus on {selector}"
            return
    pytest.fail(f"{selector} is not reachable with the Tab key")


def test_keyboard_only_vote(live_kiosk, page):
    pg = page
    pg.goto(live_kiosk.url + "/")
    tab_to(pg, "form[action='/start'] button")
    pg.keyboard.press("Enter")
    pg.wait_for_url("**/check-in")
    for name, value in resident("Bidart").items():
        tab_to(pg, f"#f-{name}")
        if name == "birth_date":
            # Day, month and year boxes, in this order whatever the browser's locale.
            for part in ("09", "03", "1984"):
                pg.keyboard.type(part)
                pg.keyboard.press("Tab")
        else:
            pg.keyboard.type(value)
    tab_to(pg, "#f-declaration")
    pg.keyboard.press("Space")
    tab_to(pg, "form[action='/check-in'] button[type=submit]")
    pg.keyboard.press("Enter")
    pg.wait_for_url("**/ballot/0")
    tab_to(pg, "input[value=D06]")
    pg.keyboard.press("Space")
    tab_to(pg, "button[value=next]")
    shot(pg, "keyboard-approval")
    pg.keyboard.press("Enter")
    pg.wait_for_url("**/ballot/1")
    tab_to(pg, "input[value=T04]")
    pg.keyboard.press("Space")
    tab_to(pg, "button[value=next]")
    pg.keyboard.press("Enter")
    pg.wait_for_url("**/review")
    tab_to(pg, "form[action='/confirm'] button")
    pg.keyboard.press("Enter")
    pg.wait_for_url("**/receipt")
    shot(pg, "keyboard-receipt")
    no_script_errors(pg)


def test_zoom_200_and_320px_reflow_without_horizontal_scroll(live_kiosk, page):
    # 200 % zoom of a 1280 px window is a 640 px CSS viewport; WCAG reflow asks for 320 px.
    pg = page

    def reflows(step):
        for width in (640, 320):
            pg.set_viewport_size({"width": width, "height": 480})
            overflow = pg.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"horizontal scroll of {overflow}px at {width}px on {step}"
            # Touch targets stay at least 44 px high at every width.
            sizes = pg.evaluate(
                "() => [...document.querySelectorAll('main button, .switch, .project input')]"
                ".filter(b => b.offsetParent).map(b => [b.textContent.trim() || b.value,"
                " b.closest('label') ? b.closest('label').getBoundingClientRect().height"
                " : b.getBoundingClientRect().height])"
            )
            assert all(h >= 44 for _t, h in sizes), (step, width, sizes)
            shot(pg, f"{step}-{width}px")

    pg.goto(live_kiosk.url + "/")
    reflows("welcome")
    pg.get_by_role("button", name="Commencer à voter").click()
    reflows("check-in")
    check_in(pg, resident("Zoom"))
    pg.get_by_role("button", name="Continuer").click()
    pg.wait_for_url("**/ballot/0")
    pg.check("input[value=D01]")
    reflows("ballot")
    axe_check(pg)


def test_ballot_page_loads_nothing_from_another_host_and_weighs_under_150_kb(live_kiosk, page):
    pg = page
    seen = []
    pg.route("**/*", lambda route: route.continue_())  # routing turns the HTTP cache off
    pg.on("requestfinished", lambda r: seen.append(r))
    pg.goto(live_kiosk.url + "/")
    pg.get_by_role("button", name="Commencer à voter").click()
    check_in(pg, resident("Poids"))
    pg.get_by_role("button", name="Continuer").click()
    pg.wait_for_url("**/ballot/0")
    seen.clear()
    pg.reload()
    pg.wait_for_load_state("networkidle")
    host = urlparse(live_kiosk.url).netloc
    total = 0
    for request in seen:
        assert urlparse(request.url).netloc == host, request.url
        total += request.sizes()["responseBodySize"] + request.sizes()["responseHeadersSize"]
    print(f"ballot page: {len(seen)} requests, {total} bytes")
    assert 0 < total < 150 * 1024


def test_vote_with_javascript_off(live_kiosk, chromium_browser, request):
    pg = new_page(chromium_browser, request.node.name, java_script_enabled=False)
    pg.goto(live_kiosk.url + "/")
    pg.get_by_role("button", name="Commencer à voter").click()
    check_in(pg, resident("Sansscript"))
    pg.get_by_role("button", name="Continuer").click()
    pg.check("input[value=D07]")
    pg.get_by_role("button", name="Continuer").click()
    pg.check("input[value=T05]")
    pg.get_by_role("button", name="Mettre à jour le compteur").click()
    assert "Dépensé" in pg.locator("#spent-text").inner_text()
    shot(pg, "knapsack-no-js")
    pg.get_by_role("button", name="Continuer").click()
    pg.get_by_role("button", name="Confirmer mon vote").click()
    assert pg.locator("#receipt-code").is_visible()
    shot(pg, "receipt-no-js")
    pg.context.close()


def test_cumulative_and_ranked_ballots_pass_axe_and_count_live(tmp_path, page):
    from fixtures_web import ROOT, make_kiosk

    home = make_kiosk(tmp_path / "kiosk", ROOT / "docs" / "examples" / "cumulative-ranked.toml")
    kiosk = start_kiosk(home)
    try:
        pg = page
        pg.goto(kiosk.url + "/")
        pg.get_by_role("button", name="Commencer à voter").click()
        check_in(
            pg,
            {
                "last_name": "Lamarque",
                "first_name": "Jan",
                "birth_date": "1990-01-02",
                "commune": "Nay",
            },
        )
        pg.get_by_role("button", name="Continuer").click()
        pg.wait_for_url("**/ballot/0")
        pg.get_by_label(re.compile("^Points")).first.select_option("3")
        assert "Points donnés : 3 sur 5. Reste : 2." in pg.locator("#counter-text").inner_text()
        axe_check(pg)
        shot(pg, "cumulative")
        pg.get_by_role("button", name="Continuer").click()
        pg.wait_for_url("**/ballot/1")
        pg.get_by_label(re.compile("^Rang")).nth(1).select_option("1")
        assert "Classés : 1 sur 3." in pg.locator("#counter-text").inner_text()
        axe_check(pg)
        shot(pg, "ranked")
        no_script_errors(pg)
    finally:
        stop_kiosk(kiosk.process)


def test_agent_link_opens_agent_mode_from_the_kiosk_screen(live_kiosk, page):
    pg = page
    pg.goto(live_kiosk.url + "/")
    link = pg.get_by_role("link", name=re.compile(r"^Agent"))
    assert link.count() == 1 and link.is_visible()
    box = link.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44, box  # a finger can hit it
    link.click()
    pg.wait_for_url("**/agent/login")
    no_script_errors(pg)


def test_birth_date_boxes_ignore_an_en_us_browser_locale(live_kiosk, chromium_browser, request):
    pg = new_page(chromium_browser, request.node.name, locale="en-US")
    try:
        pg.goto(live_kiosk.url + "/")
        pg.get_by_role("button", name="Commencer à voter").click()
        pg.wait_for_url("**/check-in")
        # The boxes are found by their accessible names, as a screen reader would.
        pg.get_by_label("Jour", exact=True).fill("04")
        pg.get_by_label("Mois", exact=True).fill("03")
        pg.get_by_label("Année", exact=True).fill("2030")
        for name, value in resident("Futur").items():
            if name != "birth_date":
                pg.fill(f"#f-{name}", value)
        pg.check("#f-declaration")
        pg.get_by_role("button", name="Continuer").click()
        # A future date is a field error; what was typed stays in the boxes.
        assert "dans le futur" in pg.locator(".error-summary").inner_text()
        assert pg.get_by_label("Jour", exact=True).input_value() == "04"
        assert pg.get_by_label("Mois", exact=True).input_value() == "03"
        assert pg.locator("#f-last_name").input_value() == "Futur"
        axe_check(pg)
        shot(pg, "future-birth-date")
        no_script_errors(pg)
    finally:
        pg.context.close()


def test_basque_live_counter_writes_money_as_the_server_and_flags_over_budget(live_kiosk, page):
    from kiosk.i18n import money

    pg = page
    pg.goto(live_kiosk.url + "/")
    pg.locator("button[lang=eu]").click()
    pg.locator("form[action='/start'] button").click()
    pg.wait_for_url("**/check-in")
    check_in(pg, resident("Garazi"))
    pg.locator("form[action='/check-in'] button[type=submit]").click()
    pg.wait_for_url("**/ballot/0")
    pg.check("input[value=D01]")
    pg.locator("button[name=action][value=next]").click()
    pg.wait_for_url("**/ballot/1")
    boxes = pg.locator("input[name=project]")
    spent = 0
    for i in range(boxes.count()):
        boxes.nth(i).check()
        spent += int(boxes.nth(i).get_attribute("data-cost"))
    budget = int(pg.locator("#ballot").get_attribute("data-budget"))
    assert spent > budget
    # The script wrote the amount exactly as the server does (645.000 €, not 645,000 €).
    assert money(spent, "eu") in pg.locator("#spent-text").inner_text()
    assert money(spent - budget, "eu") in pg.locator("#left-text").inner_text()
    # Over the budget: the words appear and the bar changes (not colour alone).
    flag = pg.locator("#budget-flag")
    assert flag.is_visible() and "gaindituta" in flag.inner_text()
    assert "budget-over" in pg.locator("#budget-meter").get_attribute("class")
    shot(pg, "knapsack-over-budget-eu")
    boxes.nth(0).uncheck()
    for i in range(boxes.count()):
        boxes.nth(i).uncheck()
    assert not flag.is_visible()
    assert "budget-over" not in pg.locator("#budget-meter").get_attribute("class")
    no_script_errors(pg)
