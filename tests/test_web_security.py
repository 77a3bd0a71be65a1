"""The web pieces the kiosk and the central share: headers, cookies, the session secret."""

import os

import pytest
from flask import Flask

from web.security import (
    CSP,
    HEADERS,
    NO_STORE,
    install_headers,
    read_secret_key,
    strict_session_cookies,
)


def _app(no_store, **config):
    app = Flask(__name__, static_folder=None)
    app.config.update(config)
    app.add_url_rule("/page", "page", lambda: "page")
    app.add_url_rule("/private/x", "private", lambda: "private")
    install_headers(app, no_store=no_store)
    strict_session_cookies(app)
    return app


def test_every_response_carries_the_headers_and_no_store_when_asked():
    client = _app(True).test_client()
    for path in ("/page", "/private/x", "/missing"):
        response = client.get(path)
        for name, value in HEADERS.items():
            assert response.headers[name] == value, (path, name)
        for name, value in NO_STORE.items():
            assert response.headers[name] == value, (path, name)
    assert HEADERS["Content-Security-Policy"] == CSP and "'unsafe-inline'" not in CSP


def test_no_store_by_path_prefix_leaves_other_pages_revalidated():
    client = _app(("/private",)).test_client()
    assert client.get("/private/x").headers["Cache-Control"].startswith("no-store")
    assert client.get("/page").headers["Cache-Control"] == "no-cache"


def test_session_cookies_are_strict_and_secure_when_configured():
    app = _app(True, SECURE_COOKIES=True)
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Strict"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert not _app(True).config.get("SESSION_COOKIE_SECURE")


def test_the_secret_key_is_read_or_the_app_refuses_to_start(tmp_path):
    path = tmp_path / "secret_key"
    with pytest.raises(RuntimeError, match=r"cannot start the central: .*urne central init"):
        read_secret_key(tmp_path, "central")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"k" * 32)
    os.close(fd)
    assert read_secret_key(tmp_path, "kiosk") == b"k" * 32
    path.chmod(0o644)  # readable by others: refused, whoever asks
    with pytest.raises(RuntimeError, match="cannot start the kiosk"):
        read_secret_key(tmp_path, "kiosk")
