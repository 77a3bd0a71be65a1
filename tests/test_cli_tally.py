"""`urne tally FILE.pb --rule RULE [--json]`: JSON, table, errors and exit codes."""

import json

from click.testing import CliRunner

from sync.cli_tally import tally


def _run(*args):
    return CliRunner().invoke(tally, [str(a) for a in args])


def test_json_gives_rule_selected_spent_budget(pabulib_dir):
    path = pabulib_dir / "Poland_Warszawa_2019_Nadwisle.pb"
    result = _run(path, "--rule", "greedy", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["rule"] == "greedy" and out["budget"] == 135502
    assert out["selected"][:2] == ["2093", "2337"]  # the order funded: highest votes first
    assert out["spent"] <= out["budget"] and out["votes"]["2093"] == 121


def test_default_rule_is_the_files_meta_rule_and_table_is_readable(pabulib_dir):
    result = _run(pabulib_dir / "Poland_Lodz_2023_Retkinia_Zachod-Smulsko.pb")
    assert result.exit_code == 0, result.output
    assert "rule greedy-threshold: spent" in result.output
    assert "P131RS" in result.output and "Nauka jazdy" in result.output


def test_equal_shares_on_a_real_file(pabulib_dir):
    result = _run(pabulib_dir / "Poland_Swiecie_2023.pb", "--rule", "equalshares/add1", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["spent"] == 1040337 and len(out["selected"]) == 17


def test_errors_say_where_and_exit_non_zero(tmp_path):
    bad = tmp_path / "bad.pb"
    bad.write_text(
        "META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;5\nVOTES\nvoter_id;vote\n1;7\n"
    )
    result = _run(bad, "--rule", "greedy")
    assert result.exit_code == 1
    assert "line 9: vote for an unknown project" in result.output
    assert _run(tmp_path / "none.pb", "--rule", "greedy").exit_code == 1
    assert _run(bad, "--rule", "nonsense").exit_code == 2
    nometa = tmp_path / "norule.pb"
    nometa.write_text(
        "META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;5\nVOTES\nvoter_id;vote\n1;1\n"
    )
    result = _run(nometa)
    assert result.exit_code == 1 and "no usable rule" in result.output


def test_help_ends_with_an_example():
    result = _run("--help")
    assert "Example: urne tally" in result.output
