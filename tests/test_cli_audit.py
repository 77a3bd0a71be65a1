"""`urne audit verify`: report, JSON, exit codes."""

import json

import pytest
from click.testing import CliRunner
from fixtures_records import golden_bundle

from sync import enroll
from sync.cli_audit import audit


@pytest.fixture
def files(enrolled, tmp_path):
    (tmp_path / "election.urne").write_bytes(enrolled.package)
    (tmp_path / "exports").mkdir()
    golden_bundle(enrolled, tmp_path / "exports" / "kiosk-01-e1-0000001-0000006.urne")
    return tmp_path


def _verify(files, *args):
    return CliRunner().invoke(
        audit, ["verify", "--election", str(files / "election.urne"), "--workers", "1", *args]
    )


def test_everything_verifies(files):
    result = _verify(files, str(files / "exports"))
    assert result.exit_code == 0, result.output
    assert "RESULT: everything verifies" in result.output
    assert "Authority key 286a 42ec 4567 9892" in result.output
    assert "kiosk-01 epoch 1: records 1-6 (6), ballots 5" in result.output


def test_json_report(files):
    result = _verify(files, "--json", str(files / "exports"))
    report = json.loads(result.output)
    assert result.exit_code == 0 and report["ok"] is True
    assert report["chains"][0]["head"] and report["bundles"][0]["ok"]


def test_tampered_bundle_exits_1(files):
    path = next((files / "exports").iterdir())
    data = bytearray(path.read_bytes())
    data[300] ^= 0x20
    path.write_bytes(bytes(data))
    result = _verify(files, str(files / "exports"))
    assert result.exit_code == 1
    assert "FAIL" in result.output and "RESULT: NOT VERIFIED" in result.output


def test_revoked_device_exits_1(files, enrolled):
    data = enroll.build_revocations(
        enrolled.election, authority_key=enrolled.authority_key, serial=1,
        revoked=[{"device": "kiosk-01", "epoch": 1, "reason": "stolen"}],
    )  # fmt: skip
    (files / "rev.urne").write_bytes(data)
    result = _verify(files, "--revocations", str(files / "rev.urne"), str(files / "exports"))
    assert result.exit_code == 1 and "RevokedError" in result.output


def test_bad_package_exits_1(files):
    (files / "election.urne").write_bytes(b"{}")
    result = _verify(files, str(files / "exports"))
    assert result.exit_code == 1 and "not an election package" in result.output


def test_unreadable_revocation_list_exits_1(files):
    (files / "rev.urne").write_bytes(b"{}")
    result = _verify(files, "--revocations", str(files / "rev.urne"), str(files / "exports"))
    assert result.exit_code == 1 and "rev.urne" in result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback


@pytest.mark.parametrize("args", [[], ["/nonexistent/path"]])
def test_usage_errors_exit_2(files, args):
    assert _verify(files, *args).exit_code == 2
    assert CliRunner().invoke(audit, ["verify", str(files / "exports")]).exit_code == 2


def test_registered_in_the_urne_cli():
    from app import cli

    assert "verify" in cli.commands["audit"].commands
    assert {"init", "certify", "revoke"} <= set(cli.commands["authority"].commands)


def test_an_audit_folders_own_package_is_not_listed_as_skipped(files):
    folder = files / "audit"
    (folder / "bundles").mkdir(parents=True)
    (folder / "election.urne").write_bytes((files / "election.urne").read_bytes())
    (folder / "tally.json").write_text("{}\n")
    golden = next((files / "exports").iterdir())
    (folder / "bundles" / golden.name).write_bytes(golden.read_bytes())
    (folder / "bundles" / "stray.urne").write_bytes((files / "election.urne").read_bytes())
    result = _verify(files, str(folder))
    assert f"Skipped (not a bundle): {folder / 'bundles' / 'stray.urne'}" in result.output
    assert f"Skipped (not a bundle): {folder / 'election.urne'}" not in result.output
    assert json.loads(_verify(files, "--json", str(folder)).output)["skipped"] == [
        str(folder / "bundles" / "stray.urne")
    ]


def test_a_toml_source_given_as_election_is_named_with_a_hint(files):
    (files / "election.toml").write_text('[election]\nid = "x"\n')
    result = CliRunner().invoke(
        audit, ["verify", "--election", str(files / "election.toml"), str(files / "exports")]
    )
    assert result.exit_code == 1
    assert f"{files / 'election.toml'}: not a signed election package" in result.output
    assert "got what looks like TOML source" in result.output and "urne election build" in (
        result.output
    )


def test_help_names_urne_bundles():
    result = CliRunner().invoke(audit, ["verify", "--help"])
    assert "*.urne" in result.output and "*.zip" not in result.output
