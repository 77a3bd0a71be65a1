"""The web fixtures themselves: browser tests fail under CI when the browser is missing."""

import fixtures_web
import pytest


def test_missing_browser_fails_under_ci_and_skips_elsewhere(monkeypatch, tmp_path):
    monkeypatch.setattr(fixtures_web, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no-chromium"):
        fixtures_web.require_browser()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="chromium"):
        fixtures_web.require_browser()


def test_missing_axe_fails_under_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(fixtures_web, "AXE", tmp_path / "axe.min.js")
    monkeypatch.setenv("CI", "1")
    if fixtures_web.CHROMIUM.exists():
        with pytest.raises(pytest.fail.Exception, match="axe"):
            fixtures_web.require_browser()


def test_live_kiosk_serves_the_real_app_and_stops(live_kiosk):
    import urllib.request

    with urllib.request.urlopen(live_kiosk.url + "/healthz", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert live_kiosk.url.startswith("http://127.0.0.1:")
    assert (live_kiosk.home / "role").read_text().strip() == "kiosk"
