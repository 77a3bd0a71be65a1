"""`urne simulate` end to end: real kiosks, bundles, a central that imports them as is."""

import json

from click.testing import CliRunner

from app import cli
from sync.central_home import open_central
from sync.groups import adjudication_bodies, current_groups
from sync.publish import central_result
from sync.results import resolve_all
from sync.simulate import simulate


def test_simulate_then_import_as_is(tmp_path):
    out = tmp_path / "sim"
    summary = simulate(out, kiosks=3, voters=40, duplicates=0.25, paper=0.2, seed=3)
    assert json.loads((out / "summary.json").read_text()) == summary
    assert summary["residents_voting_twice"] > 0 and summary["bundles"] == 6
    runner = CliRunner()
    res = runner.invoke(cli, ["sync", "import", str(out / "bundles")], env={"URNE_HOME": str(out / "central")})
    assert res.exit_code == 0, res.output
    assert "0 refused" in res.output
    with open_central(out / "central") as c:
        central_result(c, now=__import__("datetime").datetime.now(__import__("datetime").UTC))
        ballots, voided, r = resolve_all(
            c.election, c.store.records(), groups=current_groups(c.store, c.election),
            adjudications=adjudication_bodies(c.store, c.election),
        )
        states = {d["state"] for d in c.store.devices()}
    expected = summary["expected_hold"]
    assert len(voided) == expected["voided"]
    assert len(r.held) == expected["held"]
    assert len(ballots) - len(voided) - len(r.held) == expected["counted"]
    assert states == {"complete"}


def test_simulate_is_deterministic_with_a_seed(tmp_path):
    a = simulate(tmp_path / "a", kiosks=2, voters=15, duplicates=0.3, seed=9)
    b = simulate(tmp_path / "b", kiosks=2, voters=15, duplicates=0.3, seed=9)
    assert a == b
