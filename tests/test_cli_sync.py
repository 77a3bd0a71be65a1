"""`urne sync ...`, `urne simulate` and `urne central ...` on the command line."""

import stat

import pytest
from click.testing import CliRunner
from fixtures_central import PASSWORD

from app import cli
from central.cli import central, simulate
from central.cli import simulate as central_simulate
from sync.cli_sync import sync

T = "2026-05-16T"


def _commands():
    yield ("sync",), sync
    for name, cmd in sync.commands.items():
        yield ("sync", name), cmd
    yield ("simulate",), simulate
    yield ("simulate",), central_simulate
    yield ("central",), central
    for name, cmd in central.commands.items():
        yield ("central", name), cmd


@pytest.mark.parametrize(
    ("path", "command"),
    list(_commands()),
    ids=lambda x: " ".join(x) if isinstance(x, tuple) else "",
)
def test_every_help_ends_with_an_example(path, command):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert command.help.strip().splitlines()[-1].strip().startswith("Example: urne ")
    assert "Example: " in result.output


def test_central_init_sets_up_a_folder(tmp_path, demo):
    (tmp_path / "pw").write_text(PASSWORD + "\n")
    home = tmp_path / "central"
    args = [
        "central",
        "init",
        "--election",
        str(demo.paths.package),
        "--key",
        str(demo.paths.central_key),
        "--password-file",
        str(tmp_path / "pw"),
    ]
    result = CliRunner().invoke(cli, args, env={"URNE_HOME": str(home)})
    assert result.exit_code == 0, result.output
    assert (home / "role").read_text() == "central\n"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for name in ("keys/central.key", "keys/signing.key", "secret_key", "organiser.password"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
    assert PASSWORD not in (home / "organiser.password").read_text()
    from sync.central_home import password_matches

    assert password_matches(home, PASSWORD) and not password_matches(home, "wrong password!")
    again = CliRunner().invoke(cli, args, env={"URNE_HOME": str(home)})
    assert again.exit_code == 1 and "already set up" in again.output


def test_import_tally_and_refusals(central_kit, tmp_path):
    kit = central_kit()
    recs = kit.chain("k1", [("open", f"{T}09:00"), ("ballot", "Ana", "kiosk", f"{T}09:00")])
    good = kit.bundle("k1", recs)
    bad = tmp_path / "bad.urne"
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0x20
    bad.write_bytes(bytes(data))
    env = {"URNE_HOME": str(kit.home)}
    runner = CliRunner()
    result = runner.invoke(cli, ["sync", "import", str(good), str(bad), "--workers", "1"], env=env)
    assert result.exit_code == 1
    assert (
        "REFUSED" in result.output
        and "1 refused" in result.output
        and "1 new records" not in result.output
    )
    first = runner.invoke(cli, ["sync", "tally", "--json"], env=env)
    second = runner.invoke(cli, ["sync", "tally", "--json"], env=env)
    assert first.exit_code == 0 and first.stdout_bytes == second.stdout_bytes
    assert b'"counted":1' in first.stdout_bytes


def test_commands_refuse_a_folder_that_is_not_a_central(tmp_path):
    result = CliRunner().invoke(cli, ["sync", "tally"], env={"URNE_HOME": str(tmp_path)})
    assert result.exit_code == 1 and "not a central" in result.output


def test_publish_names_held_groups_and_purge_refuses_until_forced(central_kit, tmp_path):
    kit = central_kit()
    k1 = kit.chain("k1", [("open", f"{T}09:00"), ("ballot", "Ana", "kiosk", f"{T}09:00")])
    k2 = kit.chain("k2", [("open", f"{T}09:00"), ("ballot", "Ana", "paper", f"{T}10:00")])
    env = {"URNE_HOME": str(kit.home)}
    runner = CliRunner()
    paths = [str(kit.bundle("k1", k1)), str(kit.bundle("k2", k2))]
    assert runner.invoke(cli, ["sync", "import", *paths, "--workers", "1"], env=env).exit_code == 0
    published = runner.invoke(cli, ["sync", "publish", "--out", str(tmp_path / "out")], env=env)
    assert published.exit_code == 0, published.output
    assert "1 group held, 2 ballots not counted: decide them with `urne sync adjudicate`" in (
        published.output
    )
    refused = runner.invoke(cli, ["sync", "purge", "--yes"], env=env)
    assert refused.exit_code == 1 and "purge: duplicate groups are still held" in refused.output
    assert (kit.home / "keys" / "central.key").exists()
    listed = runner.invoke(cli, ["sync", "groups"], env=env).output
    forced = runner.invoke(cli, ["sync", "purge", "--yes", "--force"], env=env)
    assert forced.exit_code == 0 and "Warning: purging while 1 group held" in forced.stderr
    after = runner.invoke(cli, ["sync", "groups"], env=env)
    assert after.exit_code == 0 and after.output == listed and "1 held of 1 groups" in listed
