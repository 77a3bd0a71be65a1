"""`urne simulate` end to end: real kiosks, bundles, a central that imports them as is."""

import json

import pytest
from click.testing import CliRunner
from fixtures_central import NOW

from app import cli
from central.simulate import simulate
from sync.central_home import open_central
from sync.groups import (
    adjudication_bodies,
    central_key,
    current_groups,
    refresh_groups,
    signing_key,
)
from sync.publish import verify_published
from sync.results import resolve_all, tally_json


@pytest.mark.slow  # equalshares/add1 over a few dozen voters is slow in sync/tally for now
def test_simulate_then_import_as_is(tmp_path):
    out = tmp_path / "sim"
    summary = simulate(out, kiosks=3, voters=40, duplicates=0.25, paper=0.2, seed=3)
    assert json.loads((out / "summary.json").read_text()) == summary
    assert summary["residents_voting_twice"] > 0 and summary["bundles"] == 6
    runner = CliRunner()
    res = runner.invoke(
        cli, ["sync", "import", str(out / "bundles")], env={"URNE_HOME": str(out / "central")}
    )
    assert res.exit_code == 0, res.output
    assert "0 refused" in res.output
    with open_central(out / "central") as c:
        refresh_groups(c.store, c.election, central_key(c.home), signing_key(c.home), now=NOW)
        ballots, voided, r = resolve_all(
            c.election,
            c.store.records(),
            groups=current_groups(c.store, c.election),
            adjudications=adjudication_bodies(c.store, c.election),
        )
        states = {d["state"] for d in c.store.devices()}
    expected = summary["expected_hold"]
    assert len(voided) == expected["voided"]
    assert len(r.held) == expected["held"]
    assert len(ballots) - len(voided) - len(r.held) == expected["counted"]
    assert states == {"complete"}
    # The whole pipeline on the command line: tally, publish, recompute from the folder alone.
    env = {"URNE_HOME": str(out / "central")}
    tally = runner.invoke(cli, ["sync", "tally", "--json"], env=env)
    assert tally.exit_code == 0, tally.output
    published = runner.invoke(cli, ["sync", "publish", "--out", str(out / "audit")], env=env)
    assert published.exit_code == 0, published.output
    assert tally_json(verify_published(out / "audit")) == tally.stdout_bytes


def test_simulate_is_deterministic_with_a_seed(tmp_path):
    a = simulate(tmp_path / "a", kiosks=2, voters=15, duplicates=0.3, seed=9)
    b = simulate(tmp_path / "b", kiosks=2, voters=15, duplicates=0.3, seed=9)
    assert a == b
