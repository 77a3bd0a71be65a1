"""`urne kiosk ...` and `urne demo` through the real command line (CliRunner on app.cli)."""

import datetime
import re

import pytest
from click.testing import CliRunner
from fixtures_kiosk import KIOSK_NOW, demo_selections, resident

import app as app_module
from kiosk.store import KioskStore
from sync import crypto, enroll
from sync.demo import write_demo
from sync.election import read_package


@pytest.fixture
def run(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("URNE_HOME", str(home))
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app_module.cli, list(args), catch_exceptions=False)

    invoke.home = home
    return invoke


def _certify(demo_dir, request_path):
    election = read_package((demo_dir / "election.urne").read_bytes())
    return enroll.certify(
        request_path.read_bytes(),
        election,
        authority_key=crypto.load_private_key(demo_dir / "authority" / "authority.key"),
        secret=crypto.read_secret(demo_dir / "authority" / "election-secret"),
        epoch=1,
        issued=datetime.date.today(),
    )


def test_init_install_status_check_export(run, tmp_path):
    demo = write_demo(tmp_path / "authority")
    result = run("kiosk", "init", "--election", str(demo.package), "--device", "stand-pau-1")
    assert result.exit_code == 0, result.output
    pin = re.search(r"Agent PIN .*: (\d{6})", result.output).group(1)
    assert (run.home / "role").read_text() == "kiosk\n"
    assert (run.home / "secret_key").stat().st_mode & 0o777 == 0o600
    assert run.home.stat().st_mode & 0o777 == 0o700
    assert pin not in (run.home / "agent.pin").read_text()

    result = run("kiosk", "status")
    assert result.exit_code == 1 and "install-certificate" in result.output

    cert = tmp_path / "stand.cert"
    cert.write_bytes(_certify(tmp_path / "authority", run.home / "enrollment-request.json"))
    result = run("kiosk", "install-certificate", str(cert))
    assert result.exit_code == 0 and "stand-pau-1" in result.output

    now = datetime.datetime.now(datetime.UTC)
    store = KioskStore.open(run.home, now=now)
    store.open_session(now, clock="agent")
    store.cast(demo_selections(store), identity=resident(1), lang="fr", now=now, clock="agent")
    store.close()

    result = run("kiosk", "status")
    assert result.exit_code == 0 and "1 in total" in result.output and "open since" in result.output
    result = run("kiosk", "check")
    assert result.exit_code == 0 and result.output.startswith("OK: 2 records verified")
    result = run("kiosk", "export", "--out", str(tmp_path / "usb"))
    assert result.exit_code == 0
    assert result.output.strip().splitlines()[0].endswith("stand-pau-1-e1-0000001-0000002.urne")
    result = run("kiosk", "export", "--out", str(tmp_path / "usb"))
    assert result.exit_code == 1 and "nothing new" in result.output
    result = run("kiosk", "export", "--out", str(tmp_path / "usb"), "--all")
    assert result.exit_code == 0


def test_a_certificate_for_another_request_is_refused(run, tmp_path):
    demo = write_demo(tmp_path / "authority")
    assert run("kiosk", "init", "--election", str(demo.package), "--device", "k1").exit_code == 0
    other = tmp_path / "other"
    election = read_package(demo.package.read_bytes())
    request = enroll.init_device(other, election, "k2")
    cert = tmp_path / "k2.cert"
    cert.write_bytes(_certify(tmp_path / "authority", request))
    result = run("kiosk", "install-certificate", str(cert))
    assert result.exit_code == 1 and "another request" in result.output
    assert not (run.home / "device.cert").exists()


def test_init_refuses_a_folder_already_set_up(run, tmp_path):
    demo = write_demo(tmp_path / "authority")
    assert run("kiosk", "init", "--election", str(demo.package), "--device", "k1").exit_code == 0
    result = run("kiosk", "init", "--election", str(demo.package), "--device", "k1")
    assert result.exit_code == 1 and "already set up" in result.output
    result = run("kiosk", "init", "--election", str(demo.package), "--device", "Bad Name")
    assert result.exit_code == 1


def test_check_refuses_a_tampered_chain(store_home, monkeypatch):
    store = KioskStore.open(store_home, now=KIOSK_NOW)
    store.open_session(KIOSK_NOW, clock="agent")
    store.cast(demo_selections(store), identity=resident(1), lang="fr", now=KIOSK_NOW,
               clock="agent")  # fmt: skip
    store.db.execute("DELETE FROM voter_tags")
    store.close()
    monkeypatch.setenv("URNE_HOME", str(store_home))
    result = CliRunner().invoke(app_module.cli, ["kiosk", "check"])
    assert result.exit_code == 1 and "voter-tag set does not match" in result.output


def test_demo_sets_up_once_and_reuses_the_folder(run):
    result = run("demo", "--no-serve")
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5000/" in result.output and "(new)" in result.output
    pin = re.search(r"Agent PIN: (\d{6})", result.output).group(1)
    now = datetime.datetime.now(datetime.UTC)
    store = KioskStore.open(run.home, now=now)
    assert store.session().open
    store.verify_pin(pin, now=now)
    store.cast(demo_selections(store), identity=resident(1), lang="fr", now=now, clock="agent")
    store.close()
    result = run("demo", "--no-serve")
    assert result.exit_code == 0 and "(reused)" in result.output
    store = KioskStore.open(run.home, now=now)
    assert store.status(now).ballots_total == 1 and store.session().open
    store.close()


def _walk(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


def test_every_kiosk_command_has_help_ending_with_an_example():
    commands = [
        *_walk(app_module.cli.commands["kiosk"], ("kiosk",)),
        (("demo",), app_module.cli.commands["demo"]),
    ]
    assert {p[-1] for p, _ in commands} >= {
        "init",
        "install-certificate",
        "status",
        "check",
        "export",
        "serve",
        "set-pin",
        "demo",
    }
    for path, command in commands:
        result = CliRunner().invoke(app_module.cli, [*path, "--help"])
        assert result.exit_code == 0
        last = result.output.strip().splitlines()
        example = [line for line in last if line.strip().startswith("Example: urne ")]
        assert example, f"{' '.join(path)} has no example"
        assert command.help.strip().splitlines()[-1].strip().startswith("Example: urne " + path[0])


def test_drives_lists_the_configured_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("URNE_EXPORT_DIR", str(tmp_path))
    result = CliRunner().invoke(app_module.cli, ["kiosk", "drives"])
    assert (
        result.exit_code == 0 and f"{tmp_path}\t" in result.output and "\twritable" in result.output
    )


def test_a_second_demo_on_a_busy_port_changes_nothing(run):
    import socket

    result = run("demo", "--no-serve")
    pin = re.search(r"Agent PIN: (\d{6})", result.output).group(1)
    pin_file = (run.home / "agent.pin").read_bytes()
    with socket.socket() as busy:  # the first demo, still running
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("demo", "--port", str(port))
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "--port" in result.output
    assert "Serving" not in result.output and "Agent PIN" not in result.output
    assert (run.home / "agent.pin").read_bytes() == pin_file
    now = datetime.datetime.now(datetime.UTC)
    store = KioskStore.open(run.home, now=now)
    try:
        store.verify_pin(pin, now=now)  # the running kiosk's PIN still opens agent mode
        assert store.db.execute("SELECT failures FROM pin_state").fetchone()[0] == 0
    finally:
        store.close()


def test_a_reused_demo_keeps_its_pin_and_set_pin_makes_a_new_one(run):
    from kiosk.errors import PinLocked, WrongPin

    first = re.search(r"Agent PIN: (\d{6})", run("demo", "--no-serve").output).group(1)
    result = run("demo", "--no-serve")
    assert result.exit_code == 0 and "(reused)" in result.output
    assert "Agent PIN unchanged" in result.output and "urne kiosk set-pin" in result.output
    assert not re.search(r"\b\d{6}\b", result.output)
    now = datetime.datetime.now(datetime.UTC)
    store = KioskStore.open(run.home, now=now)
    store.verify_pin(first, now=now)
    wrong = "000000" if first != "000000" else "111111"
    for _ in range(5):
        with pytest.raises((WrongPin, PinLocked)):
            store.verify_pin(wrong, now=now)
    store.close()
    result = run("kiosk", "set-pin")
    assert result.exit_code == 0, result.output
    second = re.search(r"New agent PIN .*: (\d{6})", result.output).group(1)
    store = KioskStore.open(run.home, now=now)
    try:
        store.verify_pin(second, now=now)  # the lockout is lifted with the new PIN
        if second != first:
            with pytest.raises(WrongPin):
                store.verify_pin(first, now=now)
    finally:
        store.close()


def test_set_pin_outside_a_kiosk_folder_is_a_clean_error(run):
    result = run("kiosk", "set-pin")
    assert result.exit_code == 1 and "not a kiosk" in result.output
    assert not (run.home / "agent.pin").exists()
