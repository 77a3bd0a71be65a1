"""`urne election build | demo | show` through click's test runner."""

import json
import shutil

import pytest
from click.testing import CliRunner

from sync import crypto
from sync.cli_election import election
from sync.election import read_package


def run(*args, input=None):
    return CliRunner().invoke(election, [str(a) for a in args], input=input)


@pytest.fixture
def demo_dir(tmp_path):
    result = run("demo", "--out", tmp_path / "demo")
    assert result.exit_code == 0, result.output
    return tmp_path / "demo"


@pytest.mark.parametrize("name", [None, "build", "demo", "show"])
def test_help_ends_with_an_example(name):
    cmd = election.commands[name] if name else election
    last = cmd.help.strip().splitlines()[-1].strip()
    assert last.startswith("Example: urne election"), last
    result = run(*([name] if name else []), "--help")
    assert result.exit_code == 0
    assert last in " ".join(result.output.split())  # click wraps long lines


def test_the_group_is_registered_in_the_urne_command():
    from app import cli

    result = CliRunner().invoke(cli, ["election", "--help"])
    assert result.exit_code == 0
    assert "build" in result.output and "show" in result.output


def test_demo_writes_a_package_and_prints_its_id(demo_dir):
    e = read_package((demo_dir / "election.urne").read_bytes())
    result = run("show", demo_dir / "election.urne")
    assert result.exit_code == 0
    assert e.id in result.output
    assert crypto.fingerprint(e.authority_key) in result.output
    assert "D01" in result.output and "T07" in result.output
    assert "Budget participatif des Pyrénées-Atlantiques" in result.output


def test_demo_refuses_to_overwrite(demo_dir):
    result = run("demo", "--out", demo_dir)
    assert result.exit_code == 1
    assert "refusing to overwrite" in result.output


def test_show_json_and_language(demo_dir):
    result = run("show", demo_dir / "election.urne", "--json", "--lang", "eu")
    assert result.exit_code == 0
    info = json.loads(result.output)
    assert info["title"] == "Pirinio Atlantikoetako aurrekontu parte-hartzaileak"
    assert [s["id"] for s in info["sections"]] == ["departement", "territoires"]
    assert info["sections"][1]["ballot"]["type"] == "knapsack"


def test_show_refuses_a_tampered_package(demo_dir):
    path = demo_dir / "election.urne"
    path.write_bytes(path.read_bytes().replace(b'"cost":220000', b'"cost":220001'))
    result = run("show", path)
    assert result.exit_code == 1
    assert "package.signature: bad urne/1/election signature" in result.output


def test_build_with_defaults_next_to_the_key(demo_dir, tmp_path):
    out = tmp_path / "built.urne"
    result = run(
        "build",
        demo_dir / "election.toml",
        "--key",
        demo_dir / "authority" / "authority.key",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    e = read_package(out.read_bytes())
    assert f"Election id: {e.id}" in result.output
    again = run(
        "build",
        demo_dir / "election.toml",
        "--key",
        demo_dir / "authority" / "authority.key",
        "--out",
        out,
    )
    assert again.exit_code == 1 and "refusing to overwrite" in again.output
    forced = run(
        "build",
        demo_dir / "election.toml",
        "--key",
        demo_dir / "authority" / "authority.key",
        "--out",
        out,
        "--force",
    )
    assert forced.exit_code == 0, forced.output


def test_build_reports_the_field_and_reason(demo_dir, tmp_path):
    src = tmp_path / "election.toml"
    src.write_text((demo_dir / "election.toml").read_text().replace("max = 3 }", "max = 30 }"))
    out = tmp_path / "x.urne"
    result = run("build", src, "--key", demo_dir / "authority" / "authority.key", "--out", out)
    assert result.exit_code == 1
    assert "sections[0].ballot.max: number too large: expected <= 9, got 30" in result.output
    assert not out.exists()


def test_build_with_a_passphrase_file_or_prompt(demo_dir, tmp_path):
    key = tmp_path / "auth" / "authority.key"
    crypto.write_private_key(key, crypto.generate_signing_key(), passphrase="correct horse")
    shutil.copy(demo_dir / "authority" / "central.pub", key.parent / "central.pub")
    crypto.write_secret(key.parent / "election-secret", b"s" * 32)
    pw = tmp_path / "pw"
    pw.write_text("correct horse\n")
    ok = run(
        "build",
        demo_dir / "election.toml",
        "--key",
        key,
        "--out",
        tmp_path / "a.urne",
        "--passphrase-file",
        pw,
    )
    assert ok.exit_code == 0, ok.output
    prompted = run(
        "build",
        demo_dir / "election.toml",
        "--key",
        key,
        "--out",
        tmp_path / "b.urne",
        input="correct horse\n",
    )
    assert prompted.exit_code == 0, prompted.output
    wrong = run(
        "build",
        demo_dir / "election.toml",
        "--key",
        key,
        "--out",
        tmp_path / "c.urne",
        input="nope\n",
    )
    assert wrong.exit_code == 1
    assert "cannot load private key" in wrong.output
    assert not (tmp_path / "c.urne").exists()


def test_build_reports_a_missing_secret(demo_dir, tmp_path):
    out = tmp_path / "x.urne"
    result = run(
        "build", demo_dir / "election.toml", "--key", demo_dir / "authority" / "authority.key",
        "--out", out, "--secret", tmp_path / "nope",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "key file not found" in result.output


def test_demo_into_an_impossible_folder_says_why(tmp_path):
    (tmp_path / "file").write_text("")
    result = run("demo", "--out", tmp_path / "file" / "demo")
    assert result.exit_code == 1 and "Not a directory" in result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback


def test_from_pb_reports_where_a_broken_file_fails(tmp_path):
    bad = tmp_path / "bad.pb"
    bad.write_text("META\nkey;value\nbudget;100\nPROJECTS\nproject_id;votes\n1;3\nVOTES\n")
    result = run("from-pb", bad, "--out", tmp_path / "bad.toml")
    assert result.exit_code == 1 and "bad.pb" in result.output
    assert not (tmp_path / "bad.toml").exists()
