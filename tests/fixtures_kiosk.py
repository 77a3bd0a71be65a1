"""Kiosk fixtures: an enrolled demo kiosk folder, an open store, and resident identities.

- `store_home`: a fresh copy of an enrolled kiosk folder on the demo election (device `demo-1`,
  epoch 1, PIN `KIOSK_PIN`), no database yet.
- `kiosk_store`: a KioskStore opened on it with a session open at `KIOSK_NOW`.
- `resident(n)`: an eligible identity, different for each n.
"""

import http.cookiejar
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk import pin as agent_pin
from kiosk.setup import enroll_with_demo_authority, init_kiosk
from sync.demo import write_demo

ROOT = Path(__file__).resolve().parent.parent
PARIS = ZoneInfo("Europe/Paris")
KIOSK_NOW = datetime(2026, 5, 12, 10, 7, 30, tzinfo=PARIS)
KIOSK_PIN = "246810"
KIOSK_DEVICE = "demo-1"

FIRST_NAMES = ("Maïté", "Jean-Pierre", "Aitor", "Nadia", "Léa", "Iñaki", "Marie", "Youssef")


def resident(n, **overrides):
    """An eligible identity for the demo election (postcode 64xxx, adult, declaration ticked)."""
    identity = {
        "last_name": f"Etcheverry-{n}",
        "first_name": FIRST_NAMES[n % len(FIRST_NAMES)],
        "birth_date": f"{1950 + n % 50}-0{1 + n % 9}-1{n % 10}",
        "postcode": "64000",
        "declaration": True,
    }
    identity.update(overrides)
    return identity


def demo_selections(store, n=0):
    """A valid ballot for the demo election (of a store or an Election), varying with n."""
    out = {}
    for section in getattr(store, "election", store).sections:
        ids = [p["id"] for p in section.projects]
        if section.ballot["type"] == "approval":
            out[section.id] = sorted({ids[n % len(ids)], ids[(n + 1) % len(ids)]})
        else:
            cheapest = min(section.projects, key=lambda p: p["cost"])
            out[section.id] = [cheapest["id"]]
    return out


@pytest.fixture(scope="session")
def store_template(tmp_path_factory):
    """An enrolled kiosk folder built once per run (copy it, never write into it)."""
    base = tmp_path_factory.mktemp("kiosk-template")
    rng = random.Random(2026)
    paths = write_demo(base / "authority", now=KIOSK_NOW, rng=rng)
    home = base / "kiosk"
    made = init_kiosk(home, paths.package, KIOSK_DEVICE, rng=rng)
    agent_pin.write_pin(home, KIOSK_PIN)
    election = enroll_with_demo_authority(home, made.request, paths, now=KIOSK_NOW, rng=rng)
    return {"home": home, "authority": paths, "election": election}


@pytest.fixture
def store_home(store_template, tmp_path):
    """A fresh, writable copy of the enrolled kiosk folder."""
    home = tmp_path / "kiosk"
    shutil.copytree(store_template["home"], home)
    return home


@pytest.fixture
def kiosk_store(store_home):
    """A KioskStore on a fresh kiosk, session open at KIOSK_NOW; closed after the test."""
    from kiosk.store import KioskStore

    store = KioskStore.open(store_home, now=KIOSK_NOW)
    store.open_session(KIOSK_NOW, clock="agent")
    yield store
    store.close()


# Voting over HTTP (crash test, bench) -----------------------------------------------------------

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_CODE = re.compile(r"\b([0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5})\b")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class HttpVoter:
    """One resident's browser without JavaScript: cookies, CSRF tokens, the pages' forms."""

    def __init__(self, base_url, timeout=10):
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        jar = http.cookiejar.CookieJar()
        cookies = urllib.request.HTTPCookieProcessor(jar)
        self.opener = urllib.request.build_opener(cookies)
        self.no_redirect = urllib.request.build_opener(cookies, _NoRedirect)
        self.token = None

    def _read(self, response):
        html = response.read().decode()
        if m := _TOKEN.search(html):
            self.token = m.group(1)
        return html

    def get(self, path):
        """GET a page (following redirects); return its HTML."""
        with self.opener.open(self.base + path, timeout=self.timeout) as response:
            return self._read(response)

    def post(self, path, fields, *, follow=True):
        """POST a form with the current CSRF token; return the final HTML (or '' unfollowed)."""
        data = urllib.parse.urlencode([*fields, ("csrf_token", self.token)]).encode()
        opener = self.opener if follow else self.no_redirect
        try:
            with opener.open(self.base + path, data=data, timeout=self.timeout) as response:
                return self._read(response)
        except urllib.error.HTTPError as exc:
            if not follow and exc.code in (302, 303):
                return ""
            raise

    def vote(self, election, identity, n):
        """Go through check-in, every section, review and confirm; (receipt code, confirm ms)."""
        self.get("/")
        self.post("/start", [])
        fields = [(k, v) for k, v in identity.items() if k != "declaration"]
        self.post("/check-in", [*fields, ("declaration", "yes")])
        for index, choice in enumerate(demo_selections(election, n).values()):
            self.post(f"/ballot/{index}", [*(("project", p) for p in choice), ("action", "next")])
        self.get("/review")
        start = time.perf_counter()
        self.post("/confirm", [], follow=False)
        elapsed = (time.perf_counter() - start) * 1000
        html = self.get("/receipt")
        match = _CODE.search(html)
        if match is None:
            raise AssertionError(f"no receipt code on the receipt page: {html[:300]}")
        return match.group(1), elapsed


class KioskServer:
    """A real `urne kiosk serve` process (waitress) on a free loopback port."""

    def __init__(self, home, *, timeout=30):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = dict(os.environ, URNE_HOME=str(home))
        env.pop("FLASK_APP", None)
        self.url = f"http://127.0.0.1:{port}"
        # A file, not a pipe: a pipe nobody reads would block the server once full.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import app; app.main()", "kiosk", "serve", "--port", str(port)],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:  # the store opened: its chain re-verified
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the kiosk did not start on {self.url}: {self.output}")
            time.sleep(0.1)

    def kill(self):
        """SIGKILL: what a power cut does to the process."""
        self.process.kill()
        self.process.wait()

    def stop(self):
        """Terminate (or kill) the server and keep what it printed in `.output`."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.seek(0)
        self.output = self.log.read().decode(errors="replace")
        self.log.close()
