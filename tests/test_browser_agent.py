"""The agent's day in Debian's chromium against a real `urne kiosk serve` process, axe on every page."""

import re

import pytest
from fixtures_web import axe_check, shot

from sync.bundle import verify_bundle
from sync.election import read_package

pytestmark = pytest.mark.browser

PERSON = {
    "last_name": "Etxeberri",
    "first_name": "Maialen",
    "birth_date": "1984-03-09",
    "postcode": "64500",
}


@pytest.fixture
def usb(tmp_path):
    """The folder the kiosk offers as its export drive (config EXPORT_DIR)."""
    path = tmp_path / "usb"
    path.mkdir()
    return path


@pytest.fixture
def live_kiosk_env(usb):
    return {"URNE_EXPORT_DIR": str(usb)}


def check(pg, name, *, refused=False):
    """Accessibility check and a screenshot of the page, and no script or CSP error.

    refused: the page answers a refused form with a 4xx status, which chromium logs.
    """
    axe_check(pg)
    shot(pg, name)
    errors = getattr(pg, "errors", [])
    if refused:
        errors[:] = [
            e
            for e in errors
            if not e.startswith("Failed to load resource: the server responded with a status of 4")
        ]
    assert not errors, f"console errors (CSP?): {errors}"


def grouped(value):
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


def test_agent_logs_in_opens_keys_in_paper_exports_and_closes(live_kiosk, page, kiosk_pin, usb):
    pg = page
    base = live_kiosk.url
    pg.goto(base + "/agent/")
    pg.wait_for_url("**/agent/login")
    check(pg, "login")
    # A wrong PIN first: the page says so, in an alert tied to the field.
    pg.fill("#f-pin", "000000" if kiosk_pin != "000000" else "111111")
    pg.click("button[type=submit].button-primary")
    assert pg.locator("#pin-error").is_visible()
    assert pg.locator("#f-pin").get_attribute("aria-invalid") == "true"
    check(pg, "login-wrong-pin", refused=True)
    pg.fill("#f-pin", kiosk_pin)
    pg.keyboard.press("Enter")
    pg.wait_for_url(re.compile(r".*/agent/$"))
    assert "state-open" in pg.locator("#stand-state").get_attribute("class")
    check(pg, "status-open")

    # Close the stand (the demo kiosk starts open), copy the figures, open again.
    pg.click("main a.button-primary")
    pg.wait_for_url("**/agent/close")
    check(pg, "close-confirm")
    pg.click("main button.button-primary")
    pg.wait_for_url("**/agent/closed")
    assert pg.locator("#closed-count").inner_text() == "0"
    head = pg.locator("#closed-head").inner_text()
    assert re.fullmatch(r"([0-9a-f]{4} ){15}[0-9a-f]{4}", head)
    check(pg, "closed")
    pg.goto(base + "/agent/")
    assert "state-closed" in pg.locator("#stand-state").get_attribute("class")
    check(pg, "status-closed")
    pg.click("main a.button-primary")
    pg.wait_for_url("**/agent/open")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", pg.locator("#f-date").input_value())
    check(pg, "open-confirm-time")
    pg.click("main button.button-primary")
    pg.wait_for_url(re.compile(r".*/agent/$"))
    assert "state-open" in pg.locator("#stand-state").get_attribute("class")

    # Key in one paper ballot, keyboard and mouse as an agent would.
    pg.goto(base + "/agent/paper")
    check(pg, "paper-empty")
    for name, value in PERSON.items():
        pg.fill(f"#f-{name}", value)
    pg.check("#f-declaration")
    for pid in ("D01", "D02", "D03", "D04"):
        pg.check(f"input[value={pid}]")
    with pg.expect_navigation():
        pg.click("main button.button-primary")
    assert pg.locator(".error-summary").is_visible()
    assert pg.locator("input[value=D04]").is_checked(), "a choice was silently dropped"
    check(pg, "paper-rule-explained", refused=True)
    pg.uncheck("input[value=D04]")
    pg.check("input[value=T01]")
    with pg.expect_navigation():
        pg.click("main button.button-primary")
    assert pg.locator(".notice-ok").is_visible()
    assert pg.locator("#f-last_name").input_value() == ""
    check(pg, "paper-recorded")

    # The void page (not used: the ballot stays).
    pg.goto(base + "/agent/void")
    check(pg, "void")
    pg.goto(base + "/agent/clock")
    check(pg, "clock")

    # Export to the configured folder; the bundle on the drive verifies and matches the page.
    pg.goto(base + "/agent/export")
    check(pg, "export-choose")
    assert pg.locator(f"input[value='{usb}']").is_checked()
    pg.click("main button.button-primary")
    pg.wait_for_url("**/agent/exported")
    check(pg, "exported")
    [bundle] = sorted(usb.glob("*.urne"))
    election = read_package((live_kiosk.home / "election.urne").read_bytes())
    verified = verify_bundle(bundle, election)
    assert pg.locator("#export-count").inner_text() == str(verified.count)
    assert pg.locator("#export-head").inner_text() == grouped(verified.head)

    # Close at the end of the day: one ballot in this session, the head of the exported chain + 1.
    pg.goto(base + "/agent/close")
    pg.click("main button.button-primary")
    pg.wait_for_url("**/agent/closed")
    assert pg.locator("#closed-count").inner_text() == "1"
    check(pg, "closed-end-of-day")

    # Leave agent mode: back to the residents, and the agent pages need the PIN again.
    pg.click(".agent-bar button")
    pg.wait_for_url(base + "/")
    pg.goto(base + "/agent/")
    pg.wait_for_url("**/agent/login")


def test_agent_pages_in_high_contrast_and_large_text_pass_axe(live_kiosk, page, kiosk_pin):
    pg = page
    pg.goto(live_kiosk.url + "/agent/login")
    pg.fill("#f-pin", kiosk_pin)
    pg.keyboard.press("Enter")
    pg.wait_for_url(re.compile(r".*/agent/$"))
    pg.click(".display-switches button[name=contrast]")
    pg.click(".display-switches button[name=text_size]")
    pg.wait_for_url(re.compile(r".*/agent/$"))
    assert "contrast-high" in pg.locator("body").get_attribute("class")
    check(pg, "status-high-contrast")
    for path in ("/agent/paper", "/agent/export", "/agent/close"):
        pg.goto(live_kiosk.url + path)
        check(pg, path.strip("/").replace("/", "-") + "-high-contrast")


def test_agent_dates_do_not_follow_an_en_us_browser(live_kiosk, chromium_browser, kiosk_pin):
    """Under en-US, fields show and read the same text as under fr-FR: no locale-bound widget."""
    from fixtures_web import new_page

    from kiosk.store import KioskStore

    pg = new_page(chromium_browser, "agent-dates-en-US", locale="en-US")
    try:
        base = live_kiosk.url
        pg.goto(base + "/agent/login")
        pg.fill("#f-pin", kiosk_pin)
        pg.keyboard.press("Enter")
        pg.wait_for_url(re.compile(r".*/agent/$"))
        pg.goto(base + "/agent/clock")
        for field, shape in (("#f-date", r"\d{4}-\d{2}-\d{2}"), ("#f-time", r"\d{2}:\d{2}")):
            box = pg.locator(field)
            assert box.get_attribute("type") == "text"
            # A text box shows its value as is: never an en-US rendering (11/26/2026, 11:55 AM).
            assert re.fullmatch(shape, box.input_value())
        check(pg, "clock-en-US")
        # A birth date typed day first is stored day first.
        pg.goto(base + "/agent/paper")
        for name, value in {**PERSON, "birth_date": "04/03/1950"}.items():
            pg.fill(f"#f-{name}", value)
        pg.check("#f-declaration")
        for pid in ("D01", "T01"):
            pg.check(f"input[value={pid}]")
        with pg.expect_navigation():
            pg.click("main button.button-primary")
        assert pg.locator(".notice-ok").is_visible(), pg.content()[:3000]
    finally:
        pg.context.close()
    store = KioskStore.open(live_kiosk.home)
    try:
        assert store.has_voted(store.tag_for({**PERSON, "birth_date": "1950-03-04"}))
        assert not store.has_voted(store.tag_for({**PERSON, "birth_date": "1950-04-03"}))
    finally:
        store.close()
