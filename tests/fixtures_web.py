"""Web fixtures of the kiosk: an enrolled demo kiosk folder, the Flask app, a live server, a browser."""

import datetime
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def _demo_kiosk_template(tmp_path_factory):
    """One enrolled demo kiosk with an open session, built once and copied for each test."""
    from kiosk.setup import setup_demo

    home = tmp_path_factory.mktemp("kiosk-template") / "home"
    demo = setup_demo(home, now=datetime.datetime.now(datetime.UTC))
    return home, demo.pin


@pytest.fixture
def kiosk_home(_demo_kiosk_template, tmp_path):
    """A fresh copy of an enrolled demo kiosk folder (URNE_HOME) with an open session."""
    template, _pin = _demo_kiosk_template
    home = tmp_path / "kiosk"
    shutil.copytree(template, home, symlinks=True)
    return home


@pytest.fixture
def kiosk_pin(_demo_kiosk_template):
    """The agent PIN of the demo kiosk folders `kiosk_home` copies."""
    return _demo_kiosk_template[1]


@pytest.fixture
def app(kiosk_home):
    """The kiosk Flask app on `kiosk_home`, CSRF on, as in production."""
    from app import create_app

    flask_app = create_app({"HOME": str(kiosk_home), "TESTING": True})
    yield flask_app
    store = flask_app.extensions["urne_kiosk"]["store"]
    if store is not None:
        store.close()


@pytest.fixture
def client(app):
    """A Flask test client of `app` (cookies kept between requests)."""
    return app.test_client()


# Live servers of these tests take a free port in the range set aside for this area.
PORTS = range(5400, 5500)


def _free_port():
    for port in random.sample(PORTS, len(PORTS)):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


class LiveKiosk:
    """A running `urne kiosk serve` process: its base URL and its folder."""

    def __init__(self, url, home, process):
        self.url = url
        self.home = home
        self.process = process

    def __repr__(self):
        return f"<LiveKiosk {self.url} {self.home}>"


def start_kiosk(home, *, env=None, timeout=20):
    """Start `urne kiosk serve` on a free loopback port for `home`; wait for /healthz."""
    port = _free_port()
    environ = dict(os.environ, URNE_HOME=str(home), **(env or {}))
    environ.pop("FLASK_APP", None)
    log = open(Path(home).parent / f"serve-{port}.log", "wb")  # noqa: SIM115 - closed in stop
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import app; app.main()",
            "kiosk",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log = log
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return LiveKiosk(url, Path(home), process)
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_kiosk(process)
            output = (Path(home).parent / f"serve-{port}.log").read_text(errors="replace")
            raise RuntimeError(f"the kiosk server did not start on {url}:\n{output[-3000:]}")
        time.sleep(0.1)


def stop_kiosk(process):
    """Stop a server started by start_kiosk (terminate, then kill after a grace period)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.log.close()


@pytest.fixture
def live_kiosk_env():
    """Extra URNE_* environment for `live_kiosk` (override in a test module, e.g. a short idle)."""
    return {}


@pytest.fixture
def live_kiosk(kiosk_home, live_kiosk_env):
    """A real kiosk server process on a free loopback port, torn down after the test."""
    kiosk = start_kiosk(kiosk_home, env=live_kiosk_env)
    yield kiosk
    stop_kiosk(kiosk.process)


def _browser_missing():
    if not CHROMIUM.exists():
        return f"Debian's chromium not found at {CHROMIUM} (apt-get install chromium)"
    if not AXE.exists():
        return f"axe-core not found at {AXE} (cd tests/browser && npm ci)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


def require_browser():
    """Fail under CI, skip elsewhere, when chromium, axe-core or Playwright is missing."""
    missing = _browser_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)


@pytest.fixture(scope="session")
def chromium_browser():
    """One headless Debian chromium for the whole run, driven by Playwright."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def new_page(browser, test_name, **options):
    """A page in a fresh context (own cookies), collecting console errors and screenshots."""
    settings = {"locale": "fr-FR", "viewport": {"width": 1280, "height": 900}}
    settings.update(options)
    context = browser.new_context(**settings)
    pg = context.new_page()
    pg.set_default_timeout(10000)
    pg.shots = Screens(test_name)
    # CSP violations and script errors land here: tests assert there are none.
    pg.errors = []
    pg.on("console", lambda m: m.type == "error" and pg.errors.append(m.text))
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    return pg


@pytest.fixture
def page(chromium_browser, request):
    """A fresh browser page: French locale, 1280x900, `page.errors`, screenshots via `shot`."""
    pg = new_page(chromium_browser, request.node.name)
    yield pg
    pg.context.close()


class Screens:
    """Numbered screenshots of one test under test-artifacts/<test name>/."""

    def __init__(self, test_name):
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in test_name)[:80]
        self.dir = ARTIFACTS / safe
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, pg, name, full_page=True):
        self.count += 1
        path = self.dir / f"{self.count:02d}-{name}.png"
        pg.screenshot(path=str(path), full_page=full_page)
        return path


def shot(pg, name, full_page=True):
    """Save a screenshot of the page's current step under test-artifacts/."""
    return pg.shots(pg, name, full_page=full_page)


def axe_check(pg, *, context=None, disable=()):
    """Run axe-core (WCAG 2.0/2.1/2.2 A and AA rules and best practices) and fail on any violation."""
    if not pg.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page's CSP (script-src 'self') rightly
        # blocks an injected <script> element, and stays on for the rest of the test.
        pg.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    options = {
        "runOnly": {
            "type": "tag",
            "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
        },
        "rules": {rule: {"enabled": False} for rule in disable},
        "resultTypes": ["violations"],  # skip collecting passes: several times faster
    }
    result = pg.evaluate("([ctx, opts]) => axe.run(ctx || document, opts)", [context, options])
    violations = result["violations"]
    if violations:
        lines = []
        for v in violations:
            targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:5]]
            lines.append(f"{v['id']} ({v['impact']}): {v['help']} -> {targets}")
        pytest.fail(f"axe-core violations on {pg.url}:\n" + "\n".join(lines))
    return result


def make_kiosk(home, source_path, *, now=None):
    """An enrolled kiosk folder with an open session on any election source (window moved to now)."""
    import datetime as dt

    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from kiosk.setup import init_kiosk, install_certificate
    from kiosk.store import KioskStore
    from sync import crypto, enroll
    from sync.election import build_package, load_source, read_package

    now = now or dt.datetime.now(dt.UTC)
    source = load_source(source_path)
    today = now.date()
    source["window"] = dict(
        source["window"],
        opens=(today - dt.timedelta(days=1)).isoformat(),
        closes=(today + dt.timedelta(days=30)).isoformat(),
    )
    authority = crypto.generate_signing_key()
    secret = os.urandom(32)
    package = build_package(
        source,
        authority_key=authority,
        central_public=crypto.public_bytes(X25519PrivateKey.generate()),
        secret=secret,
    )
    package_path = Path(home).parent / f"{Path(home).name}-election.urne"
    package_path.write_bytes(package)
    made = init_kiosk(home, package_path, "test-1")
    certificate = enroll.certify(
        made.request.read_bytes(),
        read_package(package),
        authority_key=authority,
        secret=secret,
        epoch=1,
        issued=today,
    )
    install_certificate(home, certificate)
    store = KioskStore.open(home, now=now)
    try:
        store.open_session(now, clock="system")
    finally:
        store.close()
    return Path(home)
