"""A new election source from a Pabulib file: it validates and builds as written."""

import datetime
import tomllib

import pytest
from click.testing import CliRunner

from app import cli
from sync.election_pb import source_from_pb
from sync.election_source import validate_source
from sync.errors import PabulibError

TODAY = datetime.date(2026, 11, 26)


def test_every_real_file_gives_a_valid_source_with_all_its_projects(pabulib_dir):
    from sync.tally import read_pb

    for path in sorted(pabulib_dir.glob("*.pb")):
        source = validate_source(tomllib.loads(source_from_pb(path, today=TODAY)))
        (section,) = source["sections"]
        assert len(section["projects"]) == len(read_pb(path).projects), path.name


@pytest.mark.parametrize(
    ("name", "ballot", "rules"),
    [
        ("Poland_Krakow_2023_Stare_Miasto.pb", {"type": "ranked", "k": 3}, ["greedy"]),
        ("Poland_Wroclaw_2017_Rejon_nr_4_250.pb", {"type": "approval", "min": 1, "max": 1}, None),
        ("Poland_Lodz_2023_Retkinia_Zachod-Smulsko.pb", None, ["greedy-threshold"]),
        ("Netherlands_Assen_2024.pb", None, ["equalshares/add1"]),
    ],
)
def test_ballot_type_and_rule_follow_the_file(pabulib_dir, name, ballot, rules):
    source = tomllib.loads(source_from_pb(pabulib_dir / name, today=TODAY))
    (section,) = source["sections"]
    if ballot:
        assert section["ballot"] == ballot
    if rules:
        assert section["tally"]["rules"] == rules
    if rules == ["greedy-threshold"]:
        assert section["tally"]["threshold"] >= 1


def test_a_broken_file_is_refused_with_where(tmp_path):
    bad = tmp_path / "bad.pb"
    bad.write_text("META\nkey;value\nbudget;100\nPROJECTS\nproject_id;votes\n1;3\nVOTES\n")
    with pytest.raises(PabulibError, match="bad.pb"):
        source_from_pb(bad, today=TODAY)


def test_command_writes_a_source_that_builds(tmp_path, pabulib_dir):
    runner = CliRunner()
    out = tmp_path / "assen.toml"
    result = runner.invoke(
        cli,
        ["election", "from-pb", str(pabulib_dir / "Netherlands_Assen_2024.pb"), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "À compléter" in out.read_text()
    again = runner.invoke(
        cli,
        ["election", "from-pb", str(pabulib_dir / "Netherlands_Assen_2024.pb"), "--out", str(out)],
    )
    assert again.exit_code == 1 and "already exists" in again.output
    demo = runner.invoke(cli, ["election", "demo", "--out", str(tmp_path / "demo")])
    assert demo.exit_code == 0, demo.output
    built = runner.invoke(
        cli,
        [
            "election",
            "build",
            str(out),
            "--key",
            str(tmp_path / "demo" / "authority" / "authority.key"),
            "--out",
            str(tmp_path / "assen.urne"),
        ],
    )
    assert built.exit_code == 0, built.output
