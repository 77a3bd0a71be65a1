"""The Pabulib reader and writer: real files, broken files, and a write -> read round trip."""

import string
from pathlib import Path

import pytest
from fixtures_tally import elections
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.errors import PabulibError
from sync.tally import dumps_pb, parse_pb, pb_to_source, read_pb, run_rule, write_pb

GOOD = (
    "META\nkey;value\nbudget;100\nvote_type;approval\n"
    "PROJECTS\nproject_id;cost;name\n1;60;One\n2;50;Two\n"
    "VOTES\nvoter_id;vote\nv1;1,2\nv2;2\n"
)


def test_reads_a_small_file_with_crlf_and_lf_alike():
    a, b = parse_pb(GOOD), parse_pb(GOOD.replace("\n", "\r\n").encode())
    assert a.votes == b.votes == [("v1", ["1", "2"]), ("v2", ["2"])]
    assert a.budget == 100 and a.ballot_type == "approval"
    assert [p["project_id"] for p in a.projects] == ["1", "2"]


def test_real_files_quirks(pabulib_dir):
    krakow = read_pb(pabulib_dir / "Poland_Krakow_2023_Stare_Miasto.pb")
    assert krakow.ballot_type == "ranked" and krakow.budget == pytest.approx(1261899.87)
    names = {p["project_id"]: p["name"] for p in krakow.projects}
    assert "🌳" in names["BO.D1.6/23"]
    wiel = read_pb(pabulib_dir / "Poland_Wieliczka_2023_Green_Budget.pb")
    assert any('"Stok pod Baranem"' in p["name"] for p in wiel.projects)
    gdynia = read_pb(pabulib_dir / "Poland_Gdynia_2023_Chwarzno-Wiczlino__small.pb")
    assert '"Projekt +1"' in gdynia.meta["comment"]
    kat = read_pb(pabulib_dir / "Poland_Katowice_2023_Ligota_-_Panewniki.pb")  # LF, cumulative
    assert kat.ballot_type == "cumulative" and all(isinstance(b, dict) for b in kat.ballots)
    assert sum(sum(b.values()) for b in kat.ballots) == sum(int(p["score"]) for p in kat.projects)


def test_ranked_scores_reproduce_krakow_score_column(pabulib_dir):
    pb = read_pb(pabulib_dir / "Poland_Krakow_2023_Stare_Miasto.pb")
    out = run_rule("greedy", pb.project_list(), pb.budget, pb.ballots, ballot_type="ranked")
    assert out.score == {p["project_id"]: int(p["score"]) for p in pb.projects}


def test_every_file_parses_with_its_declared_counts(pabulib_dir):
    for path in sorted(pabulib_dir.glob("*.pb")):
        pb = read_pb(path)
        assert len(pb.projects) == int(pb.meta["num_projects"]), path.name
        assert len(pb.votes) == int(pb.meta["num_votes"]), path.name


def _swap(old, new):
    assert old in GOOD
    return GOOD.replace(old, new, 1)


BROKEN = [
    ("", "", "empty file: expected META, PROJECTS and VOTES sections, got no text"),
    (" \n\n", "", "empty file"),
    ("key;value\nbudget;1\n", "line 1", "text before the first section"),
    (_swap("budget;100\n", ""), "line", "META has no budget"),
    (_swap("budget;100", "budget;lots"), "line 3", "not a number"),
    (_swap("vote_type;approval", "vote_type;magic"), "line 4", "unknown vote_type"),
    (_swap("1;60;One", "1;60"), "line 7", "PROJECTS row has 2 fields"),
    (_swap("2;50;Two", "1;50;Two"), "line 8", "duplicate project id"),
    (_swap("2;50;Two", "2;-5;Two"), "line 8", "negative amount"),
    (_swap("v1;1,2", "v1;1,3"), "line 11", "unknown project"),
    (_swap("v1;1,2", "v1;1,1"), "line 11", "listed twice"),
    (_swap("v2;2", "v1;2"), "line 12", "duplicate voter_id"),
    (_swap("VOTES\nvoter_id;vote\nv1;1,2\nv2;2\n", ""), "line", "missing VOTES"),
    (_swap("project_id;cost;name", "id;cost;name"), "line 6", "PROJECTS header lacks project_id"),
    (_swap("1;60;One", '1;60;"One'), "line", "malformed CSV"),
    (_swap("META\n", "META\nMETA\n"), "line 2", "section repeated"),
    (_swap("1;60;One", "1;60;One;extra"), "line 7", "PROJECTS row has 4 fields"),
]


@pytest.mark.parametrize(("text", "where", "what"), BROKEN)
def test_broken_files_raise_a_clear_error(text, where, what):
    with pytest.raises(PabulibError) as err:
        parse_pb(text)
    assert where in (err.value.where or "")
    assert what in str(err.value)


def test_bad_bytes_and_missing_points_are_located(tmp_path):
    with pytest.raises(PabulibError, match="not UTF-8") as err:
        parse_pb(GOOD.encode().replace(b"Two", b"Tw\xff"))
    assert err.value.where == "line 8"
    cumulative = GOOD.replace("approval", "cumulative").replace(
        "voter_id;vote\n", "voter_id;vote;points\n"
    )
    with pytest.raises(PabulibError, match="points do not match"):
        parse_pb(cumulative.replace("v1;1,2", "v1;1,2;3").replace("v2;2\n", "v2;2;1\n"))
    with pytest.raises(PabulibError, match="absent.pb: file does not exist: expected a Pabulib"):
        read_pb(tmp_path / "absent.pb")


def test_errors_of_a_file_name_the_file_and_the_line(tmp_path):
    path = tmp_path / "typo.pb"
    path.write_text(_swap("budget;100", "budget;lots"))
    with pytest.raises(PabulibError) as err:
        read_pb(path)
    assert str(err.value) == f"{path}, line 3: not a number: expected a decimal amount, got 'lots'"
    assert err.value.where == f"{path}, line 3" and err.value.got == "'lots'"
    (tmp_path / "empty.pb").write_bytes(b"")
    with pytest.raises(PabulibError, match=r"empty\.pb: empty file"):
        read_pb(tmp_path / "empty.pb")


def test_writer_refuses_ids_that_would_break_votes():
    with pytest.raises(PabulibError, match="cannot be written"):
        dumps_pb({"budget": "1"}, [{"id": "a,b", "cost": 1}], [], ballot_type="approval")


NAMES = st.text(alphabet=string.ascii_letters + ' ;,"é🌳\n', max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["approval", "cumulative", "ranked"]).flatmap(
        lambda k: st.tuples(st.just(k), elections(k))
    ),
    NAMES,
)
def test_write_read_round_trip(kind_election, name):
    kind, (projects, budget, ballots) = kind_election
    projects = [dict(p, name=name or p["id"]) for p in projects]
    out = run_rule("greedy", projects, budget, ballots, ballot_type=kind)
    text = dumps_pb(
        {"description": name, "budget": budget}, projects, ballots, ballot_type=kind, outcome=out
    )
    pb = parse_pb(text)
    assert pb.meta["rule"] == "greedy" and pb.meta["description"] == name.strip()
    assert pb.budget == budget and pb.ballot_type == kind
    assert [(p["project_id"], p["cost"], p["name"]) for p in pb.projects] == [
        (p["id"], p["cost"], p["name"]) for p in projects
    ]
    assert pb.selected("1") == [p["id"] for p in projects if p["id"] in out.selected]
    assert [v for v, _ in pb.votes] == [str(i) for i in range(1, len(ballots) + 1)]  # anonymous ids
    key = (
        (lambda b: sorted(b.items()))
        if kind == "cumulative"
        else (list if kind == "ranked" else sorted)
    )
    assert sorted(map(key, pb.ballots)) == sorted(map(key, ballots))
    again = run_rule("greedy", pb.project_list(), pb.budget, pb.ballots, ballot_type=kind)
    assert again.selected == out.selected


def test_export_is_independent_of_ballot_order(tmp_path):
    projects = [{"id": "a", "cost": 1}, {"id": "b", "cost": 2}]
    ballots = [["a"], ["a", "b"], ["b"]]
    one = write_pb(tmp_path / "1.pb", {"budget": 2}, projects, ballots, ballot_type="approval")
    two = write_pb(
        tmp_path / "2.pb", {"budget": 2}, projects, ballots[::-1], ballot_type="approval"
    )
    assert Path(one).read_bytes() == Path(two).read_bytes()


def test_pb_to_source_gives_election_source_projects(pabulib_dir):
    src = pb_to_source(pabulib_dir / "Poland_Lodz_2023_Retkinia_Zachod-Smulsko.pb")
    assert src["budget"] == 742000 and len(src["projects"]) == 14
    first = src["projects"][0]
    assert set(first) == {"id", "title", "summary", "cost", "canton", "category"}
    assert (
        first["id"] == "P131RS"
        and first["cost"] == 150000
        and first["title"]["fr"].startswith("Nauka")
    )
    assert first["canton"] == "Polesie" and first["category"] == "sport-and-recreation"
