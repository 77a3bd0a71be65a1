"""Web fixtures of the central: the Flask app on a real central folder, signed pushes, logins.

`central_app(kit, **config)` -> Flask app on a CentralKit's folder (fixtures_central), CSRF on,
    the clock fixed at fixtures_central.NOW.
`push(client, ctx, body, now=NOW, seed=1)` -> response of a push of `body` signed by ctx's key.
`organiser(client)` logs the client in through the real form; `csrf(client, url)` a form token.
`sim_published` (fixture) -> the same, published once per run (copied per test);
`sim_home` (fixture) -> a fresh copy of a simulated central (3 kiosks, 60 residents, 10 %
    duplicates) with every bundle imported; `sim_summary` -> its summary.
`db_state(home)` -> everything stored (tables and bundle files), to prove nothing changed.
"""

import hashlib
import random
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sync import crypto
from sync.push import PATH, sign_push

NOW = datetime(2026, 5, 16, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"  # noqa: S105 - the password fixtures_central sets


def central_app(home, *, now=NOW, **config):
    """The central Flask app on `home`, as in production (CSRF on), with a fixed clock."""
    from app import create_app

    settings = {"HOME": str(home), "TESTING": True, "CENTRAL_NOW": lambda: now}
    settings.update(config)
    return create_app(settings)


def push(client, ctx, body, *, now=NOW, seed=1, device=None, epoch=None, headers=None):
    """POST `body` (bytes or a path) to the push endpoint, signed by ctx.device_key."""
    data = body.read_bytes() if isinstance(body, Path) else bytes(body)
    signed = sign_push(
        ctx.device_key, device or ctx.device, ctx.epoch if epoch is None else epoch, data,
        now=now, rng=random.Random(seed),
    )  # fmt: skip
    signed.update(headers or {})
    return client.post(PATH, data=data, headers=signed), signed


def csrf(client, url):
    """The CSRF token of the first form on the page at `url`."""
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def organiser(client, password=PASSWORD):
    """Log `client` in as the organiser through the real login form."""
    token = csrf(client, "/organisateur/connexion")
    r = client.post("/organisateur/connexion", data={"csrf_token": token, "password": password})
    assert r.status_code == 302, r.get_data(as_text=True)
    return client


def db_state(home):
    """A fingerprint of everything the central stores: every table's rows and the bundle files."""
    import sqlite3

    conn = sqlite3.connect(Path(home) / "central.db")
    tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    state = {}
    for t in sorted(tables):
        if t == "push_nonces":
            continue  # a request whose signature held may record its nonce (docs/sync-protocol.md)
        rows = conn.execute(f"SELECT * FROM {t}").fetchall()  # noqa: S608 - names from sqlite_master
        state[t] = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
    conn.close()
    folder = Path(home) / "bundles"
    state["files"] = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    return state


def central_for(ctx, root, password=PASSWORD):
    """A central folder for the election of a fixtures_records context (e.g. the tamper kit)."""
    from sync.central_home import init_central

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / "election.urne").write_bytes(ctx.package)
    crypto.write_private_key(root / "central.key", ctx.central_key)
    return init_central(
        root / "central", root / "election.urne", root / "central.key", password,
        rng=random.Random(5),
    )  # fmt: skip


@pytest.fixture(scope="session")
def _sim_template(tmp_path_factory):
    """One simulated election, its bundles imported into its central, built once per run."""
    import json

    from central.simulate import simulate
    from sync.central_home import open_central
    from sync.importer import import_paths

    out = tmp_path_factory.mktemp("central-sim") / "sim"
    simulate(out, kiosks=3, voters=60, duplicates=0.1, seed=3)
    with open_central(out / "central") as c:
        import_paths(c, [out / "bundles"], now=NOW, workers=1)
    return out, json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="session")
def _sim_published_template(_sim_template, tmp_path_factory):
    """The simulated central after one publication (the demo tally is slow: done once per run)."""
    from central.snapshot import publish_results
    from sync.central_home import open_central

    out = tmp_path_factory.mktemp("central-sim-published") / "sim"
    shutil.copytree(_sim_template[0], out, symlinks=True)
    with open_central(out / "central") as c:
        publish_results(c, now=NOW)
    return out


@pytest.fixture
def sim_published(_sim_published_template, tmp_path):
    """A fresh copy of the simulated central with its results published (URNE_HOME)."""
    root = tmp_path / "simp"
    shutil.copytree(_sim_published_template, root, symlinks=True)
    return root / "central"


@pytest.fixture
def sim_root(_sim_template, tmp_path):
    """A fresh copy of the simulation folder (central/, kiosks/, bundles/, summary.json)."""
    root = tmp_path / "sim"
    shutil.copytree(_sim_template[0], root, symlinks=True)
    return root


@pytest.fixture
def sim_home(sim_root):
    """The simulated central's URNE_HOME (bundles imported, nothing published yet)."""
    return sim_root / "central"


@pytest.fixture
def sim_summary(_sim_template):
    """The simulation's summary.json."""
    return _sim_template[1]


@pytest.fixture
def sim_password(sim_root, sim_summary):
    """The organiser password of the simulated central."""
    return (sim_root / sim_summary["password_file"]).read_text().strip()


class LiveCentral:
    """A running `urne central serve` process: its base URL, folder and process."""

    def __init__(self, url, home, process):
        self.url, self.home, self.process = url, home, process


def start_central(home, *, timeout=30):
    """Start `urne central serve` (waitress) on a free loopback port for `home`; wait for /healthz."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    from fixtures_web import ROOT, _free_port, stop_kiosk

    port = _free_port()
    env = dict(os.environ, URNE_HOME=str(home))
    env.pop("FLASK_APP", None)
    log_path = Path(home).parent / f"central-serve-{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed by stop_kiosk
    cmd = [sys.executable, "-c", "import app; app.main()", "central", "serve", "--host", "127.0.0.1",
           "--port", str(port), "--threads", "4"]  # fmt: skip
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    process.log = log
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:  # noqa: S310 - loopback
                if r.status == 200:
                    return LiveCentral(url, Path(home), process)
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_kiosk(process)
            raise RuntimeError(
                f"the central did not start on {url}:\n{log_path.read_text()[-3000:]}"
            )
        time.sleep(0.1)


@pytest.fixture
def live_central(sim_published):
    """A real central server on the published simulation, torn down after the test."""
    from fixtures_web import stop_kiosk

    server = start_central(sim_published)
    yield server
    stop_kiosk(server.process)
