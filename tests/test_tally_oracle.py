"""The tally rules against oracles: pabutools (GPL, test-only), a naive exact MES, real files."""

from fractions import Fraction

import pytest
from fixtures_tally import elections, naive_mes, pabu, pabu_greedy, pabu_mes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.tally import read_pb, run_rule

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BIG = ("Praga-Poludnie", "Ursynow")
# Files pabutools parses in about a second: compared in every run; the others are marked slow.
QUICK = (
    "Assen",
    "Podjasnogorska",
    "Plac_Wojska",
    "Nadwisle",
    "Swiecie",
    "Rembertow",
    "Krakow",
    "Tysiaclecie",
)
MES_FILES = {  # META rule equalshares*: compared with the files' `selected` column
    "Netherlands_Assen_2024.pb",
    "Poland_Swiecie_2023.pb",
    "Poland_Wieliczka_2023_Green_Budget.pb",
}


def _run(rule, election, kind="approval", **kw):
    projects, budget, ballots = election
    return run_rule(rule, projects, budget, ballots, ballot_type=kind, **kw)


def _naive_add1(projects, budget, ballots, kind):
    cost = {p["id"]: p["cost"] for p in projects}
    supported = {p for b in ballots for p in b}
    t = Fraction(budget, len(ballots))
    prev = [p for p in sorted(cost) if cost[p] == 0 and p in supported]
    while True:
        out = naive_mes(projects, budget, ballots, kind, per_voter=t)
        spent = sum(cost[p] for p in out)
        if spent > budget:
            return prev
        if all(p in out or spent + cost[p] > budget for p in supported if cost[p]):
            return out
        prev, t = out, t + 1


@SETTINGS
@given(elections())
def test_greedy_matches_pabutools(election):
    assert set(_run("greedy", election).selected) == pabu_greedy(*election)


@SETTINGS
@given(elections("cumulative"))
def test_greedy_cumulative_matches_pabutools_points_times_cost(election):
    assert set(_run("greedy", election, "cumulative").selected) == pabu_greedy(
        *election, "cumulative"
    )


@SETTINGS
@given(elections("ranked"))
def test_greedy_ranked_matches_pabutools_rank_scores(election):
    assert set(_run("greedy", election, "ranked").selected) == pabu_greedy(*election, "ranked")


@SETTINGS
@given(elections())
def test_equalshares_matches_pabutools(election):
    ours = _run("equalshares", election).selected
    assert set(ours) == pabu_mes(*election, add1=False)
    assert ours == naive_mes(*election, "approval")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(max_cost=25))
def test_add1_matches_pabutools(election):
    assert set(_run("equalshares/add1", election).selected) == pabu_mes(*election, add1=True)


@SETTINGS
@given(elections("cumulative"))
def test_equalshares_weighted_matches_naive_cumulative(election):
    assert _run("equalshares", election, "cumulative").selected == naive_mes(
        *election, "cumulative"
    )


@SETTINGS
@given(elections("ranked"))
def test_equalshares_weighted_matches_naive_ranked(election):
    assert _run("equalshares", election, "ranked").selected == naive_mes(*election, "ranked")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections("cumulative", max_cost=20))
def test_add1_weighted_matches_naive(election):
    assert set(_run("equalshares/add1", election, "cumulative").selected) == set(
        _naive_add1(*election, "cumulative")
    )


def test_exact_ties_break_by_id_string_order():
    # Two identical projects: "10" sorts before "9" as a string; the tie is reported.
    projects = [{"id": "9", "cost": 10}, {"id": "10", "cost": 10}]
    out = run_rule("equalshares", projects, 10, [["9", "10"]] * 4, ballot_type="approval")
    assert out.selected == ["10"]
    assert out.ties == [{"round": 1, "tied": ["10", "9"], "chosen": "10", "by": "project id order"}]
    assert pabu_mes(projects, 10, [["9", "10"]] * 4, add1=False) == {"10"}


# -- real Pabulib files --------------------------------------------------------------------
def _files(pabulib_dir):
    return sorted(pabulib_dir.glob("*.pb"))


def _tally_file(path, rule):
    pb = read_pb(path)
    thr = pb.meta.get("min_project_score_threshold")
    thr = int(thr) if thr and rule in ("greedy-threshold", "greedy-no-skip") else None
    return pb, run_rule(
        rule, pb.project_list(), pb.budget, pb.ballots, ballot_type=pb.ballot_type, threshold=thr
    )


def test_meta_rule_reproduces_selected_column(pabulib_dir):
    """Every file's own rule gives its `selected=1` projects (Gdynia's selected=2 are extra)."""
    checked = 0
    for path in _files(pabulib_dir):
        pb = read_pb(path)
        if any(b in path.name for b in BIG) and pb.meta["rule"].startswith("equalshares"):
            continue
        pb, out = _tally_file(path, pb.meta["rule"])
        assert sorted(out.selected) == sorted(pb.selected("1")), path.name
        checked += 1
    assert checked == 15


def test_gdynia_extra_projects_are_outside_the_allocation(pabulib_dir):
    pb, out = _tally_file(
        pabulib_dir / "Poland_Gdynia_2023_Chwarzno-Wiczlino__small.pb", "greedy-no-skip"
    )
    assert pb.selected("2") and not set(pb.selected("2")) & set(out.selected)


def test_wieliczka_comparison_keeps_equal_shares(pabulib_dir):
    pb, out = _tally_file(
        pabulib_dir / "Poland_Wieliczka_2023_Green_Budget.pb", "equalshares/add1-comparison"
    )
    assert out.details["chosen"] == "equalshares"
    assert out.details["prefers_mes"] > out.details["prefers_greedy"]
    _, plain = _tally_file(
        pabulib_dir / "Poland_Wieliczka_2023_Green_Budget.pb", "equalshares/add1"
    )
    assert sorted(plain.selected) != sorted(out.selected)  # the variant really differs here


def _quick(path):
    return any(q in path.name for q in QUICK)


@pytest.mark.parametrize("quick", [True, pytest.param(False, marks=pytest.mark.slow)])
def test_greedy_matches_pabutools_on_every_file(pabulib_dir, quick):
    from pabutools.election import parse_pabulib

    for path in _files(pabulib_dir):
        if _quick(path) != quick:
            continue
        _, out = _tally_file(path, "greedy")
        assert set(out.selected) == pabu_greedy(None, None, None, pb=parse_pabulib(str(path))), (
            path.name
        )


@pytest.mark.parametrize("quick", [True, pytest.param(False, marks=pytest.mark.slow)])
def test_equalshares_matches_pabutools_on_files(pabulib_dir, quick):
    """Plain MES (one run) on every approval file (the big two included, marked slow)."""
    from pabutools.election import parse_pabulib

    for path in _files(pabulib_dir):
        pb = read_pb(path)
        if pb.ballot_type != "approval" or _quick(path) != quick:
            continue
        _, out = _tally_file(path, "equalshares")
        assert set(out.selected) == pabu_mes(
            None, None, None, add1=False, pb=parse_pabulib(str(path))
        ), path.name


def test_add1_matches_pabutools_on_assen(pabulib_dir):
    from pabutools.election import parse_pabulib

    path = pabulib_dir / "Netherlands_Assen_2024.pb"
    _, out = _tally_file(path, "equalshares/add1")
    assert set(out.selected) == pabu_mes(None, None, None, pb=parse_pabulib(str(path)))


@pytest.mark.slow
def test_add1_matches_pabutools_on_swiecie(pabulib_dir):
    from pabutools.election import parse_pabulib

    path = pabulib_dir / "Poland_Swiecie_2023.pb"
    _, out = _tally_file(path, "equalshares/add1")
    assert set(out.selected) == pabu_mes(None, None, None, pb=parse_pabulib(str(path)))


def test_pabu_helper_builds_the_same_election():
    inst, prof = pabu([{"id": "a", "cost": 3}], 5, [["a"], []], "approval")
    assert inst.budget_limit == 5 and len(prof) == 2


@SETTINGS
@given(elections(max_voters=4), st.integers(3, 9))
def test_grouped_identical_ballots_match_naive(election, copies):
    """Many identical ballots take the grouped path (counts per ballot kind): same result."""
    projects, budget, ballots = election
    many = ballots * copies
    assert _run("equalshares", (projects, budget * copies, many)).selected == naive_mes(
        projects, budget * copies, many, "approval"
    )
