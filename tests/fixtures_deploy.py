"""Deploy fixtures: systemd unit parsing, the real `urne` binary, free ports, prepared folders.

- `unit_settings(path)`: a unit file as {section: [(key, value), ...]}.
- `unit_command(path, env_overrides)`: the ExecStart argv (variables expanded as systemd does)
  and the environment the unit sets.
- `urne_bin`: the installed `urne` console script the units' ExecStart stands for.
- `free_port()`, `wait_for_health(url)`, `wait_for_port(port)`, `run_unit(...)` (a context manager).
- `deploy_kiosk_home`: a kiosk folder made by the real `urne demo --no-serve` (session open).
- `enrolled_kiosk_home`: a kiosk folder enrolled step by step as docs/deploy.md says.
"""

import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
ARTIFACTS = ROOT / "test-artifacts"
# Where the units expect things on a real device, and what stands for them here.
INSTALLED_URNE = "/opt/urne/venv/bin/urne"
INSTALLED_GUNICORN = "/opt/urne/venv/bin/gunicorn"
INSTALLED_HELPERS = "/usr/local/lib/urne/"

_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def unit_settings(path):
    """A systemd unit file as {section: [(key, value), ...]} (continuation lines joined)."""
    sections = {}
    current = None
    pending = ""
    for raw in Path(path).read_text().splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def unit_environment(path):
    """The variables a unit's Environment= lines set (later lines win, as in systemd)."""
    env = {}
    for key, value in unit_settings(path).get("Service", []):
        if key == "Environment":
            for assignment in shlex.split(value):
                name, _, val = assignment.partition("=")
                env[name] = val
    return env


def unit_command(path, env_overrides=None):
    """(argv, env) of a unit's single ExecStart, with ${VAR} expanded from the unit's env."""
    env = unit_environment(path)
    env.update(env_overrides or {})
    starts = [v for k, v in unit_settings(path).get("Service", []) if k == "ExecStart"]
    assert len(starts) == 1, f"{path}: expected one ExecStart, got {starts}"
    line = starts[0].lstrip("@-:+!")
    argv = [
        _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), ""), word)
        for word in shlex.split(line)
    ]
    return argv, env


def free_port():
    """A TCP port nothing listens on now (loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(url, *, timeout=30.0, process=None):
    """Poll a health URL until it answers; returns (status, body). Fails the test on timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            pytest.fail(f"the server exited with {process.returncode} before answering:\n{out}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError as exc:
            last = exc
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {timeout}s ({last})")


def wait_for_port(port, *, timeout=30.0, process=None):
    """Wait until something accepts TCP connections on a loopback port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            pytest.fail(f"the process exited with {process.returncode} before listening:\n{out}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@contextlib.contextmanager
def run_unit(argv, env, *, cwd):
    """Start a unit's command as a child process; stop it (SIGTERM, as systemd does) after."""
    full_env = {**os.environ, **env}
    process = subprocess.Popen(
        argv,
        env=full_env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if process.stdout:
            process.stdout.close()


def real_binary(name):
    """The installed console script `name` (beside this Python first), or fail/skip."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not installed: run `pip install -e .`")
    return found


@pytest.fixture(scope="session")
def urne_bin():
    """The installed `urne` console script that /opt/urne/venv/bin/urne stands for."""
    return real_binary("urne")


def run_urne(urne, *args, home, check=True):
    """Run a real `urne` command on a folder; returns the CompletedProcess."""
    result = subprocess.run(
        [urne, *args],
        env={**os.environ, "URNE_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        pytest.fail(f"urne {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def _deploy_kiosk_template(tmp_path_factory, urne_bin):
    home = tmp_path_factory.mktemp("deploy-kiosk") / "home"
    run_urne(urne_bin, "demo", "--no-serve", home=home)
    return home


@pytest.fixture
def deploy_kiosk_home(_deploy_kiosk_template, tmp_path):
    """A kiosk folder (demo election, enrolled, session open) made by the real commands."""
    home = tmp_path / "urne-home"
    shutil.copytree(_deploy_kiosk_template, home, symlinks=True)
    return home


@pytest.fixture(scope="session")
def _enrolled_kiosk_template(tmp_path_factory, urne_bin):
    base = tmp_path_factory.mktemp("deploy-enrolled")
    home, authority = base / "home", base / "authority"
    run_urne(urne_bin, "election", "demo", "--out", str(authority), home=home)
    package = authority / "election.urne"
    made = run_urne(
        urne_bin, "kiosk", "init", "--election", str(package), "--device", "stand-pau-1", home=home
    )
    assert "Agent PIN" in made.stdout
    cert = base / "stand-pau-1.cert"
    run_urne(
        urne_bin,
        "authority",
        "certify",
        str(home / "enrollment-request.json"),
        "--key",
        str(authority / "authority" / "authority.key"),
        "--election",
        str(package),
        "--out",
        str(cert),
        home=home,
    )
    run_urne(urne_bin, "kiosk", "install-certificate", str(cert), home=home)
    run_urne(urne_bin, "kiosk", "check", home=home)
    return home


@pytest.fixture
def enrolled_kiosk_home(_enrolled_kiosk_template, tmp_path):
    """A kiosk folder made with the documented commands: election demo, kiosk init, authority
    certify, kiosk install-certificate (no session open yet)."""
    home = tmp_path / "enrolled-home"
    shutil.copytree(_enrolled_kiosk_template, home, symlinks=True)
    return home


def tool(name):
    """The path of a system tool the deploy checks need: fail under CI when missing, else skip."""
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.access(p, os.X_OK)), None
    )
    if found is None:
        message = f"`{name}` is not installed (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found
