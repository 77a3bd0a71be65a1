"""The deploy files: units verify, scripts are shellcheck-clean, and each unit's ExecStart serves."""

import gzip
import json
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from fixtures_deploy import (
    ARTIFACTS,
    DEPLOY,
    INSTALLED_GUNICORN,
    INSTALLED_HELPERS,
    INSTALLED_URNE,
    free_port,
    real_binary,
    run_unit,
    tool,
    unit_command,
    unit_environment,
    unit_settings,
    wait_for_health,
    wait_for_port,
)

UNITS = sorted(
    p for p in DEPLOY.rglob("*") if p.suffix in {".service", ".timer", ".mount", ".path", ".socket"}
)
SCRIPTS = sorted(
    p
    for p in DEPLOY.rglob("*")
    if p.is_file()
    and p.read_bytes().startswith(b"#!")
    and b"bash" in p.read_bytes().split(b"\n")[0]
)
KIOSK_UNIT = DEPLOY / "kiosk" / "systemd" / "urne-kiosk.service"
SCREEN_UNIT = DEPLOY / "kiosk" / "systemd" / "urne-screen.service"
KIOSK_SETUP = DEPLOY / "kiosk" / "setup.sh"
GUNICORN_CONF = DEPLOY / "central" / "config" / "gunicorn-central.conf.py"


def _stand_in(text):
    """Point a unit at what stands here for the device's installed binaries and helpers."""
    helpers = {p.name: p for p in DEPLOY.rglob("bin/*")}
    helpers["gunicorn-central.conf.py"] = GUNICORN_CONF
    text = text.replace(INSTALLED_URNE, real_binary("urne"))
    text = text.replace(INSTALLED_GUNICORN, real_binary("gunicorn"))
    for name, path in helpers.items():
        text = text.replace(INSTALLED_HELPERS + name, str(path))
    return text


def test_the_deploy_area_has_units_and_scripts():
    names = {p.name for p in UNITS}
    assert {"urne-kiosk.service", "urne-screen.service", "urne-usb@.service"} <= names
    assert {"setup.sh", "urne-screen", "urne-usb-mount"} <= {p.name for p in SCRIPTS}


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_unit_passes_systemd_analyze_verify(unit, tmp_path):
    analyze = tool("systemd-analyze")
    # A template is checked through one instance of it, as systemd would load it.
    name = unit.name.replace("@.", "@sda1.")
    copy = tmp_path / name
    copy.write_text(_stand_in(unit.read_text()))
    if unit.suffix == ".timer":
        service = unit.with_suffix(".service")
        (tmp_path / service.name).write_text(_stand_in(service.read_text()))
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(copy)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    ours = [line for line in (result.stdout + result.stderr).splitlines() if str(tmp_path) in line]
    assert result.returncode == 0 and ours == [], result.stdout + result.stderr


def test_verify_catches_a_misspelt_directive(tmp_path):
    """The check above can fail: a typo in a unit is reported."""
    analyze = tool("systemd-analyze")
    bad = tmp_path / "urne-bad.service"
    bad.write_text(_stand_in(KIOSK_UNIT.read_text()).replace("UMask=", "UMsk="))
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert "UMsk" in result.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_script_passes_shellcheck(script):
    shellcheck = tool("shellcheck")
    result = subprocess.run(
        [shellcheck, "--severity=style", "--external-sources", "--check-sourced", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout
    assert os.access(script, os.X_OK), f"{script} is not executable"
    assert "set -euo pipefail" in script.read_text()


def test_server_unit_is_hardened_and_loopback_by_default():
    service = dict(unit_settings(KIOSK_UNIT)["Service"])
    for key, want in {
        "User": "urne",
        "Restart": "on-failure",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ReadWritePaths": "/var/lib/urne -/media/urne",
    }.items():
        assert service.get(key) == want, key
    env = unit_environment(KIOSK_UNIT)
    assert env["URNE_KIOSK_HOST"] == "127.0.0.1" and env["URNE_HOME"] == "/var/lib/urne"


def _lay_kiosk(root, *extra):
    boot = root / "boot" / "firmware"
    boot.mkdir(parents=True, exist_ok=True)
    if not (boot / "config.txt").exists():
        (boot / "config.txt").write_text("dtparam=audio=on\n")
        (boot / "cmdline.txt").write_text("console=tty1 root=PARTUUID=abc rootwait\n")
    return subprocess.run(
        ["bash", str(KIOSK_SETUP), "--root", str(root), *extra],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _snapshot(root):
    return {
        str(p.relative_to(root)): (p.read_bytes(), oct(p.stat().st_mode))
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_kiosk_setup_lays_everything_and_a_second_run_changes_nothing(tmp_path):
    root = tmp_path / "root"
    options = ("--tablets", "--ssid", "stand-pau-1", "--rtc", "ds3231")
    first = _lay_kiosk(root, *options)
    assert first.returncode == 0, first.stderr
    before = _snapshot(root)
    second = _lay_kiosk(root, *options)
    assert second.returncode == 0, second.stderr
    assert _snapshot(root) == before
    assert "wrote" not in second.stdout and "added" not in second.stdout

    etc = root / "etc"
    assert (etc / "systemd/system/urne-kiosk.service").read_text() == KIOSK_UNIT.read_text()
    env = (etc / "urne/kiosk.env").read_text()
    assert "URNE_KIOSK_HOST=10.42.0.1" in env and "URNE_PAIRING_REQUIRED=true" in env
    assert "ssid=stand-pau-1" in (etc / "hostapd/hostapd.conf").read_text()
    psk = etc / "hostapd/urne.psk"
    assert oct(psk.stat().st_mode & 0o777) == "0o600"
    assert len(psk.read_text().split()[1]) == 20
    assert oct((root / "var/lib/urne").stat().st_mode & 0o777) == "0o700"
    config = (root / "boot/firmware/config.txt").read_text().splitlines()
    assert config.count("dtparam=watchdog=on") == 1 and "dtoverlay=i2c-rtc,ds3231" in config
    cmdline = (root / "boot/firmware/cmdline.txt").read_text()
    assert cmdline.count("\n") == 1 and cmdline.count("consoleblank=0") == 1


def test_kiosk_setup_without_tablets_stays_on_loopback(tmp_path):
    root = tmp_path / "root"
    assert _lay_kiosk(root).returncode == 0
    env = (root / "etc/urne/kiosk.env").read_text()
    assert "URNE_KIOSK_HOST=127.0.0.1" in env and "URNE_PAIRING_REQUIRED=false" in env
    assert not (root / "etc/hostapd").exists()


@pytest.mark.parametrize(
    "options, message",
    [
        (("--rtc", "pcf8523"), "--rtc expects ds3231"),
        (("--tablets", "--ssid", "bad name!"), "--ssid must be"),
        (("--frobnicate",), "unknown option"),
    ],
)
def test_kiosk_setup_refuses_bad_options_clearly(tmp_path, options, message):
    result = _lay_kiosk(tmp_path / "root", *options)
    assert result.returncode == 2 and message in result.stderr
    assert not (tmp_path / "root/etc/hostapd/urne.psk").exists()


def test_tablet_wifi_dhcp_config_passes_dnsmasq_check():
    dnsmasq = tool("dnsmasq")
    conf = DEPLOY / "kiosk/config/dnsmasq-urne.conf"
    result = subprocess.run(
        [dnsmasq, "--test", f"--conf-file={conf}"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0 and "OK" in result.stderr, result.stderr
    # No route and no name server given to the tablets: they reach the kiosk only.
    text = conf.read_text()
    assert "dhcp-option=option:router\n" in text and "dhcp-option=option:dns-server\n" in text


def test_usb_mount_helper_refuses_odd_device_names():
    helper = DEPLOY / "kiosk/bin/urne-usb-mount"
    for args in (["add", "../sda1"], ["add"], ["format", "sda1"], ["add", "sda1;reboot"]):
        result = subprocess.run(["bash", str(helper), *args], capture_output=True, text=True)
        assert result.returncode == 2 and "usage" in result.stderr, args


@pytest.mark.slow
def test_kiosk_unit_execstart_serves_health(enrolled_kiosk_home, tmp_path):
    port = free_port()
    argv, env = unit_command(
        KIOSK_UNIT, {"URNE_HOME": str(enrolled_kiosk_home), "URNE_KIOSK_PORT": str(port)}
    )
    assert argv[0] == INSTALLED_URNE and argv[1:] == [
        "kiosk",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    argv[0] = real_binary("urne")
    with run_unit(argv, env, cwd=tmp_path) as server:
        status, body = wait_for_health(f"http://127.0.0.1:{port}/healthz", process=server)
    assert status == 200, body
    assert json.loads(body) == {"role": "kiosk", "ok": True}


@pytest.mark.slow
def test_kiosk_unit_execstart_reports_an_unopenable_stand(deploy_kiosk_home, tmp_path):
    """The health check can fail: a corrupted database makes /healthz answer 503 with the reason."""
    db = deploy_kiosk_home / "kiosk.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    data = bytearray(db.read_bytes())
    data[4096:8192] = b"\xff" * 4096
    db.write_bytes(bytes(data))
    port = free_port()
    argv, env = unit_command(
        KIOSK_UNIT, {"URNE_HOME": str(deploy_kiosk_home), "URNE_KIOSK_PORT": str(port)}
    )
    argv[0] = real_binary("urne")
    with run_unit(argv, env, cwd=tmp_path) as server:
        status, body = wait_for_health(f"http://127.0.0.1:{port}/healthz", process=server)
    assert status == 503 and json.loads(body)["ok"] is False


@pytest.mark.browser
@pytest.mark.slow
def test_screen_launcher_shows_the_kiosk_in_headless_chromium(deploy_kiosk_home, tmp_path):
    chromium = tool("chromium")
    tool("curl")
    port = free_port()
    argv, env = unit_command(
        KIOSK_UNIT, {"URNE_HOME": str(deploy_kiosk_home), "URNE_KIOSK_PORT": str(port)}
    )
    argv[0] = real_binary("urne")
    screen_argv, screen_env = unit_command(SCREEN_UNIT, {"URNE_KIOSK_PORT": str(port)})
    assert screen_argv == [INSTALLED_HELPERS + "urne-screen"]
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "deploy-kiosk-screen.png"
    shot.unlink(missing_ok=True)
    screen_env.update(
        URNE_SCREEN_COMPOSITOR="none",
        URNE_SCREEN_PROFILE=str(tmp_path / "profile"),
        URNE_SCREEN_WAIT_SECONDS="60",
        PATH=f"{Path(chromium).parent}:{os.environ['PATH']}",
    )
    # The launcher is started first: it must wait for the server rather than fail.
    with (
        run_unit(
            [
                str(DEPLOY / "kiosk/bin/urne-screen"),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=1280,800",
                f"--screenshot={shot}",
            ],
            screen_env,
            cwd=tmp_path,
        ) as screen,
        run_unit(argv, env, cwd=tmp_path) as server,
    ):
        wait_for_health(f"http://127.0.0.1:{port}/healthz", process=server)
        screen.wait(timeout=90)
    assert screen.returncode == 0
    assert shot.exists() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_screen_launcher_runs_chromium_in_french(tmp_path):
    """Chromium's own widgets follow its locale: the launcher sets French, whatever the system's."""
    import functools
    import http.server
    import threading

    chromium = tool("chromium")
    tool("curl")
    site = tmp_path / "site"
    site.mkdir()
    page = "<p id=l></p><script>l.textContent = 'LANG=' + navigator.languages.join(',')</script>"
    (site / "index.html").write_text(f"<!doctype html><html><body>{page}</body></html>")
    (site / "healthz").write_text("ok")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        **os.environ,
        "LANG": "en_US.UTF-8",
        "URNE_SCREEN_URL": f"http://127.0.0.1:{server.server_port}/index.html",
        "URNE_SCREEN_COMPOSITOR": "none",
        "URNE_SCREEN_PROFILE": str(tmp_path / "profile"),
        "PATH": f"{Path(chromium).parent}:{os.environ['PATH']}",
    }
    try:
        result = subprocess.run(
            [str(DEPLOY / "kiosk/bin/urne-screen"), "--headless", "--no-sandbox", "--disable-gpu",
             "--dump-dom"],
            env=env, capture_output=True, text=True, timeout=90,
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r"LANG=fr-FR\b", result.stdout), result.stdout[-2000:]


def test_screen_launcher_gives_up_when_no_server_answers(tmp_path):
    tool("curl")
    env = {
        **os.environ,
        "URNE_KIOSK_PORT": str(free_port()),
        "URNE_SCREEN_WAIT_SECONDS": "1",
        "URNE_SCREEN_COMPOSITOR": "none",
        "URNE_SCREEN_PROFILE": str(tmp_path / "profile"),
    }
    result = subprocess.run(
        [str(DEPLOY / "kiosk/bin/urne-screen")], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1 and "did not answer" in result.stderr
    assert not (tmp_path / "profile").exists()


# --- The central --------------------------------------------------------------------------------

CENTRAL_UNIT = DEPLOY / "central" / "systemd" / "urne-central.service"
CENTRAL_SETUP = DEPLOY / "central" / "setup.sh"
BACKUP = DEPLOY / "central" / "bin" / "urne-central-backup"
NGINX_SITE = DEPLOY / "central" / "config" / "nginx-urne-central.conf"
SECRETS = {
    "keys/central.key": "central.key",
    "keys/signing.key": "signing.key",
    "secret_key": "secret_key",
    "organiser.password": "organiser.password",
}


def _lay_central(root, credentials, *extra):
    return subprocess.run(
        [
            "bash",
            str(CENTRAL_SETUP),
            "--root",
            str(root),
            "--server-name",
            "budget.example.org",
            "--credentials-dir",
            str(credentials),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="session")
def central_install(tmp_path_factory, urne_bin):
    """A central laid out as on the server: `urne central init`, then setup.sh, then the
    credentials handed over as systemd does (a read-only copy, mode 0400). Read-only: tests
    that write copy `home` first."""
    from fixtures_deploy import run_urne

    base = tmp_path_factory.mktemp("deploy-central")
    root = base / "root"
    credentials = base / "credentials"
    home = root / "var/lib/urne-central"
    authority = base / "authority"
    run_urne(urne_bin, "election", "demo", "--out", str(authority), home=home)
    password = base / "organiser-password"
    password.write_text("correct horse battery staple\n")
    run_urne(
        urne_bin,
        "central",
        "init",
        "--election",
        str(authority / "election.urne"),
        "--key",
        str(authority / "central.key"),
        "--password-file",
        str(password),
        home=home,
    )
    laid = _lay_central(root, credentials)
    assert laid.returncode == 0, laid.stderr
    credentials.mkdir(mode=0o500)
    for name in SECRETS.values():
        target = credentials / name
        shutil.copyfile(root / "etc/urne/central" / name, target)
        target.chmod(0o400)
    credentials.chmod(0o500)
    return {"root": root, "home": home, "credentials": credentials, "laid": laid}


@pytest.fixture
def central_home(central_install, tmp_path):
    """A writable copy of the installed central's data folder (its symlinks kept)."""
    home = tmp_path / "urne-central"
    shutil.copytree(central_install["home"], home, symlinks=True)
    return home


def test_central_setup_moves_secrets_out_of_the_data_folder(central_install, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(central_install["root"], root, symlinks=True)
    home = root / "var/lib/urne-central"
    secrets = root / "etc/urne/central"
    assert oct(secrets.stat().st_mode & 0o777) == "0o700"
    for in_home, name in SECRETS.items():
        link = home / in_home
        assert link.is_symlink() and os.readlink(link) == str(central_install["credentials"] / name)
        assert oct((secrets / name).stat().st_mode & 0o777) == "0o600"
    site = (root / "etc/nginx/sites-available/urne-central").read_text()
    assert "server_name budget.example.org;" in site and "@SERVER_NAME@" not in site
    # A second run changes nothing.
    before = _snapshot(root)
    again = _lay_central(root, central_install["credentials"])
    assert again.returncode == 0 and "wrote" not in again.stdout and "moved" not in again.stdout
    assert _snapshot(root) == before


def test_central_setup_refuses_a_bad_server_name(tmp_path):
    result = subprocess.run(
        ["bash", str(CENTRAL_SETUP), "--root", str(tmp_path), "--server-name", "no spaces;"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "--server-name expects" in result.stderr
    assert list(tmp_path.iterdir()) == []


def _central_command(home, tmp_path, port):
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    argv, env = unit_command(
        CENTRAL_UNIT,
        {
            "URNE_HOME": str(home),
            "URNE_CENTRAL_BIND": f"127.0.0.1:{port}",
            "URNE_CENTRAL_LOGS": str(logs),
        },
    )
    assert argv[0] == INSTALLED_GUNICORN and argv[-1] == "app:create_app()"
    argv[0] = real_binary("gunicorn")
    argv[argv.index(INSTALLED_HELPERS + GUNICORN_CONF.name)] = str(GUNICORN_CONF)
    return argv, env, logs


@pytest.mark.slow
def test_central_unit_execstart_serves_health_from_credentials(central_home, tmp_path):
    assert (central_home / "secret_key").is_symlink()
    port = free_port()
    argv, env, logs = _central_command(central_home, tmp_path, port)
    with run_unit(argv, env, cwd=central_home) as server:
        status, body = wait_for_health(f"http://127.0.0.1:{port}/healthz", process=server)
    assert status == 200, body
    assert json.loads(body)["role"] == "central"
    assert (logs / "central-access.log").read_text().count("/healthz") >= 1


def _self_signed(folder):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "budget.example.org")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("budget.example.org")]), False)
        .sign(key, hashes.SHA256())
    )
    (folder / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _nginx_config(tmp_path, upstream_port, http_port, https_port):
    """The real site file with only ports, certificate and log paths pointed into tmp_path."""
    tls = tmp_path / "tls"
    tls.mkdir()
    _self_signed(tls)
    site = NGINX_SITE.read_text().replace("@SERVER_NAME@", "budget.example.org")
    site = site.replace("/etc/letsencrypt/live/budget.example.org", str(tls))
    site = site.replace("/var/log/nginx", str(tmp_path))
    site = site.replace("/var/www/letsencrypt", str(tmp_path / "acme"))
    site = site.replace("127.0.0.1:8000", f"127.0.0.1:{upstream_port}")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    site = "\n".join(line for line in site.splitlines() if "[::]" not in line)
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log warn;
daemon off;
worker_processes 1;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
{site}
}}
"""
    )
    return conf


def test_nginx_site_passes_nginx_check(tmp_path):
    nginx = tool("nginx")
    conf = _nginx_config(tmp_path, free_port(), free_port(), free_port())
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_nginx_serves_the_central_over_tls_with_hsts_and_the_body_limit(central_home, tmp_path):
    import http.client
    import ssl

    nginx = tool("nginx")
    upstream, http_port, https_port = free_port(), free_port(), free_port()
    argv, env, _logs = _central_command(central_home, tmp_path, upstream)
    conf = _nginx_config(tmp_path, upstream, http_port, https_port)
    context = ssl.create_default_context(cafile=str(tmp_path / "tls/fullchain.pem"))
    context.check_hostname = False
    with (
        run_unit(argv, env, cwd=central_home) as server,
        run_unit([nginx, "-p", str(tmp_path), "-c", str(conf)], {}, cwd=tmp_path) as proxy,
    ):
        wait_for_health(f"http://127.0.0.1:{upstream}/healthz", process=server)
        wait_for_port(https_port, process=proxy)

        plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
        plain.request("GET", "/healthz", headers={"Host": "budget.example.org"})
        moved = plain.getresponse()
        assert moved.status == 301
        assert moved.headers["Location"] == "https://budget.example.org/healthz"

        secure = http.client.HTTPSConnection("127.0.0.1", https_port, timeout=10, context=context)
        secure.request("GET", "/healthz", headers={"Host": "budget.example.org"})
        health = secure.getresponse()
        assert health.status == 200 and json.loads(health.read())["role"] == "central"
        assert health.headers["Strict-Transport-Security"].startswith("max-age=63072000")
        assert secure.sock.version() == "TLSv1.3"

        # A push larger than the central accepts stops at nginx, before Python.
        big = http.client.HTTPSConnection("127.0.0.1", https_port, timeout=10, context=context)
        big.putrequest("POST", "/api/push", skip_host=True)
        big.putheader("Host", "budget.example.org")
        big.putheader("Content-Length", str(64 * 1024 * 1024 + 1))
        big.endheaders()
        assert big.getresponse().status == 413

        # Modern TLS only: a client stuck at TLS 1.2 is turned away.
        old = ssl.create_default_context(cafile=str(tmp_path / "tls/fullchain.pem"))
        old.check_hostname = False
        old.maximum_version = ssl.TLSVersion.TLSv1_2
        legacy = http.client.HTTPSConnection("127.0.0.1", https_port, timeout=10, context=old)
        with pytest.raises(ssl.SSLError):
            legacy.request("GET", "/healthz", headers={"Host": "budget.example.org"})

    assert proxy.returncode is not None


def test_backup_copies_a_live_database_consistently_and_prunes_old_copies(tmp_path):
    sqlite = tool("sqlite3")
    home, dest = tmp_path / "home", tmp_path / "backups"
    home.mkdir()
    db = sqlite3.connect(home / "central.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE records (seq INTEGER PRIMARY KEY, body BLOB)")
    with db:
        db.executemany(
            "INSERT INTO records (body) VALUES (?)", [(os.urandom(200),) for _ in range(500)]
        )
    # A write still open in another connection must not leak into the copy half done.
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO records (body) VALUES (x'00')")
    (home / "election.urne").write_bytes(b"package")
    dest.mkdir()
    stale = dest / "central-20200101T000000Z.db.gz"
    stale.write_bytes(b"old")
    os.utime(stale, (0, 0))
    env = {
        **os.environ,
        "URNE_HOME": str(home),
        "URNE_BACKUP_DIR": str(dest),
        "URNE_BACKUP_KEEP": "7",
        "PATH": f"{Path(sqlite).parent}:{os.environ['PATH']}",
    }
    result = subprocess.run([str(BACKUP)], env=env, capture_output=True, text=True, timeout=60)
    db.rollback()
    db.close()
    assert result.returncode == 0, result.stderr
    assert not stale.exists()
    copies = sorted(dest.glob("central-*.db.gz"))
    assert len(copies) == 1 and oct(copies[0].stat().st_mode & 0o777) == "0o600"
    restored = tmp_path / "restored.db"
    restored.write_bytes(gzip.decompress(copies[0].read_bytes()))
    check = sqlite3.connect(restored)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert check.execute("SELECT count(*) FROM records").fetchone()[0] == 500
    check.close()
    assert len(list(dest.glob("files-*.tar.gz"))) == 1


def test_backup_refuses_a_missing_database(tmp_path):
    env = {
        **os.environ,
        "URNE_HOME": str(tmp_path / "none"),
        "URNE_BACKUP_DIR": str(tmp_path / "b"),
    }
    result = subprocess.run([str(BACKUP)], env=env, capture_output=True, text=True)
    assert result.returncode == 1 and "no database" in result.stderr
    assert not (tmp_path / "b").exists()


def test_logrotate_config_rotates_the_central_logs(tmp_path):
    logrotate = tool("logrotate")
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "central-access.log").write_text("GET /healthz 200\n" * 10)
    conf = tmp_path / "logrotate.conf"
    text = (DEPLOY / "central/config/logrotate-urne-central").read_text()
    # Only the paths and the owner (no such user here) change for the test.
    conf.write_text(
        text.replace("/var/log/urne", str(logs)).replace("urne-central adm", "root root")
    )
    result = subprocess.run(
        [logrotate, "--force", "--state", str(tmp_path / "state"), str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert (logs / "central-access.log.1").exists()
    assert (logs / "central-access.log").read_text() == ""


def _systemd_env_file(path):
    """Read an EnvironmentFile= as systemd does: KEY=VALUE lines, comments, outer quotes removed."""
    env = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        key, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def test_tablet_settings_reach_the_app_as_the_pairing_config(
    tmp_path, deploy_kiosk_home, monkeypatch
):
    from app import create_app

    root = tmp_path / "root"
    assert _lay_kiosk(root, "--tablets", "--ssid", "stand").returncode == 0
    env = _systemd_env_file(root / "etc/urne/kiosk.env")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    flask_app = create_app({"HOME": str(deploy_kiosk_home)})
    try:
        assert flask_app.config["PAIRING_REQUIRED"] is True
        assert flask_app.config["PAIRING_TRUSTED_ADDRESSES"] == ["10.42.0.1"]
        assert flask_app.config["PAIRING_BASE_URL"] == "http://10.42.0.1:5000"
        argv, _ = unit_command(KIOSK_UNIT, env)
        assert argv[-4:] == ["--host", "10.42.0.1", "--port", "5000"]
    finally:
        flask_app.extensions["urne_kiosk"]["store"].close()


# --- The guides match the screens ---------------------------------------------------------------

# Quoted in the guide but not shown by Urne: the browser's, the tablet's, an example, a name.
NOT_URNE_TEXTS = {
    "This site can't be reached",
    "no internet",
    "Stay connected",
    "confirmed by mistake",
    "Synchroniser",
}


def _screen_texts():
    root = DEPLOY.parent
    files = [*(root / "templates").rglob("*.html"), *(root / "kiosk").glob("*.py")]
    return re.sub(r"\s+", " ", " ".join(p.read_text() for p in files))


def test_english_agent_guide_quotes_the_real_screen_texts():
    """Every message the guide quotes is one the kiosk really shows (placeholders aside)."""
    guide = (DEPLOY.parent / "docs" / "agent-guide.en.md").read_text()
    screens = _screen_texts()
    missing = []
    for quoted in re.findall(r'"([^"\n]*)"', guide):
        if quoted in NOT_URNE_TEXTS or len(quoted) < 12:
            continue
        # "…" stands for the rest of a message; N for a number the screen fills in.
        for fragment in re.split(r"…|\bN\b", quoted):
            fragment = fragment.strip(" .:")
            if len(fragment) >= 8 and fragment not in screens:
                missing.append(fragment)
    assert missing == [], f"quoted in docs/agent-guide.en.md but shown nowhere: {missing}"


NOT_URNE_TEXTS_FR = {
    "a validé par erreur",
    "head hash",
    "Ce site est inaccessible",
    "pas d'internet",
    "Rester connecté",
}
# French for msgids added in kiosk/agent_texts.py, awaiting the catalogue (French first): once it
# translates them, the catalogue wins and the guide must quote its words.
PROPOSED_FR = {
    "Wrong PIN. %(num)s try left before the PIN is locked for a while.": (
        "Code PIN faux. Encore %(num)s essai avant que le code PIN soit bloqué un moment. "
        "Code PIN faux. Encore %(num)s essais avant que le code PIN soit bloqué un moment."
    ),
    "Wrong PIN. The PIN is locked: try again in %(wait)s.": (
        "Code PIN faux. Le code PIN est bloqué : réessayez dans %(wait)s."
    ),
    "The central server is closed, the results are final: keep the export on a USB drive.": (
        "La centrale est fermée, les résultats sont définitifs ; gardez l'export sur clé USB."
    ),
}


def _french_screen_texts():
    from babel.messages.pofile import read_po

    po = DEPLOY.parent / "kiosk" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f)

    def translated(message):  # a fuzzy guess is not compiled: the screen shows the English
        return (
            message is not None
            and message.id
            and not message.fuzzy
            and any(message.string if isinstance(message.string, tuple) else (message.string,))
        )

    texts = []
    for message in catalog:
        if translated(message):
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            texts += [text for text in strings if text]
    texts += [fr for en, fr in PROPOSED_FR.items() if not translated(catalog.get(en))]
    return re.sub(r"\s+", " ", " ".join(texts))


def test_french_agent_guide_quotes_the_real_screen_texts():
    """Every « message » the French guide quotes is one the French screens really show."""
    guide = re.sub(r"\s+", " ", (DEPLOY.parent / "docs" / "agent-guide.md").read_text())
    screens = _french_screen_texts()
    missing = []
    for quoted in re.findall(r"«\s*([^»]*?)\s*»", guide):
        if quoted in NOT_URNE_TEXTS_FR:
            continue
        for fragment in re.split(r"…|\bN\b", quoted):
            fragment = fragment.strip(" .:")
            if len(fragment) >= 8 and fragment not in screens:
                missing.append(fragment)
    assert missing == [], f"quoted in docs/agent-guide.md but shown nowhere: {missing}"


def test_both_agent_guides_cover_the_same_sections():
    docs = DEPLOY.parent / "docs"
    french = re.findall(r"^##+ ", (docs / "agent-guide.md").read_text(), re.M)
    english = re.findall(r"^##+ ", (docs / "agent-guide.en.md").read_text(), re.M)
    assert len(french) == len(english) >= 12


def test_gunicorn_config_trusts_exactly_one_proxy_hop():
    """Behind nginx the app sees the client nginx saw, and a spoofed earlier hop is ignored."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gunicorn_central_conf", GUNICORN_CONF)
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)

    def echo(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{environ['REMOTE_ADDR']} {environ['wsgi.url_scheme']}".encode()]

    class Worker:
        wsgi = staticmethod(echo)

    worker = Worker()
    conf.post_worker_init(worker)
    environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "127.0.0.1:8000",
        # The resident's own header first, then the address nginx appended.
        "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_FORWARDED_HOST": "budget.example.org",
    }
    body = b"".join(worker.wsgi(environ, lambda status, headers: None))
    assert body == b"203.0.113.9 https"


def test_nginx_body_limit_matches_the_apps_upload_limit():
    import app as app_module

    limit = re.search(r"client_max_body_size (\d+)m;", NGINX_SITE.read_text())
    assert limit is not None
    assert int(limit.group(1)) * 1024 * 1024 == app_module.DEFAULTS["MAX_CONTENT_LENGTH"]
