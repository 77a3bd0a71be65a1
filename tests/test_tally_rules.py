"""Tally rules on hand-made elections: greedy variants, Equal Shares, constraints, ties, errors."""

import copy
from fractions import Fraction
from types import SimpleNamespace

import pytest
from fixtures_tally import elections, naive_mes
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.errors import TallyError
from sync.tally import RULES, run_rule, run_section
from sync.tally.mes import MesData, mes_run
from sync.tally.model import group_shared, make_instance, make_profile, money_json

P = [
    {"id": "a", "cost": 60},
    {"id": "b", "cost": 50},
    {"id": "c", "cost": 30},
    {"id": "d", "cost": 20},
]
BALLOTS = [["a", "b"], ["a", "c"], ["a", "b", "c"], ["a", "b", "d"], ["c"]]  # a 4, b 3, c 3, d 1


def run(rule, projects=P, budget=100, ballots=None, kind="approval", **kw):
    return run_rule(
        rule, projects, budget, ballots if ballots is not None else BALLOTS, ballot_type=kind, **kw
    )


def test_greedy_skips_what_does_not_fit_and_reports_the_deciding_tie():
    out = run("greedy")
    # a (4) fits; b and c tie at 3: "b" comes first by id and does not fit; c fits; d does not.
    assert out.selected == ["a", "c"] and out.spent == 90
    assert out.ties == [{"score": 3, "tied": ["b", "c"], "funded": ["c"], "by": "project id order"}]
    assert out.votes == {"a": 4, "b": 3, "c": 3, "d": 1}


def test_greedy_no_skip_stops_at_the_first_that_does_not_fit():
    assert run("greedy-no-skip").selected == ["a"]


def test_greedy_threshold_ignores_low_scores():
    assert run("greedy-threshold", threshold=4).selected == ["a"]
    assert run("greedy-threshold", threshold=1).selected == ["a", "c"]
    with pytest.raises(TallyError, match="needs a threshold"):
        run("greedy-threshold")


def test_cumulative_and_ranked_scores():
    ballots = [{"a": 1, "d": 5}, {"d": 2, "b": 1}]
    out = run("greedy", ballots=ballots, kind="cumulative")
    assert out.score == {"a": 1, "b": 1, "c": 0, "d": 7} and out.selected[0] == "d"
    ranked = run("greedy", ballots=[["d", "a", "b"], ["b"]], kind="ranked")
    assert ranked.score == {"a": 2, "b": 2, "c": 0, "d": 3}


def test_equal_shares_is_proportional_where_greedy_is_not():
    # 6 voters want x1, x2 (cheap, popular); 4 voters want y: MES funds y, greedy does not.
    projects = [{"id": "x1", "cost": 50}, {"id": "x2", "cost": 50}, {"id": "y", "cost": 40}]
    ballots = [["x1", "x2"]] * 6 + [["y"]] * 4
    assert run("greedy", projects, 100, ballots).selected == ["x1", "x2"]
    mes = run("equalshares", projects, 100, ballots)
    # x1 costs each of its 6 voters 50/6 (a share 1/6 of its cost), y costs its 4 voters 1/4.
    assert mes.selected == ["x1", "y"] and mes.spent == 90
    assert mes.to_json()["spent"] == 90


def test_exact_boundaries_match_the_naive_rational_method():
    # Budgets equal prices exactly (10 per voter, a project of 10 for one voter), where floats
    # alone cannot tell poor from rich.
    projects = [{"id": "a", "cost": 10}, {"id": "b", "cost": 20}, {"id": "c", "cost": 7}]
    ballots = [["a", "b"], ["b"], ["b", "c"]]
    assert run("equalshares", projects, 30, ballots).selected == naive_mes(
        projects, 30, ballots, "approval"
    )
    # Each voter's whole share (10) is exactly one project's price: borders and exact ties.
    own = [{"id": p, "cost": 10} for p in ("z", "x", "y")]
    out = run("equalshares", own, 30, [["x"], ["y"], ["z"]])
    assert out.selected == ["x", "y", "z"] == naive_mes(own, 30, [["x"], ["y"], ["z"]], "approval")
    assert [t["tied"] for t in out.ties] == [["x", "y", "z"], ["y", "z"]]
    thirds = [{"id": "a", "cost": 1}, {"id": "b", "cost": 1}]
    out = run("equalshares", thirds, 1, [["a", "b"]] * 3)
    assert out.selected == ["a"] and out.ties[0]["tied"] == ["a", "b"]


@settings(max_examples=40, deadline=None)
@given(elections("cumulative"))
def test_hints_never_change_the_run(election):
    projects, budget, ballots = election
    inst = make_instance(projects, budget)
    data = MesData(inst, make_profile(inst, ballots, "cumulative"))
    t = Fraction(data.budget, len(ballots))
    plain = mes_run(data, t)
    hints = list(reversed(data.eligible))
    assert mes_run(data, t, hints=hints)[:3] == plain[:3]
    assert mes_run(data, t, hints=plain[3])[:3] == plain[:3]


def test_add1_completes_and_comparison_can_prefer_greedy():
    projects = [{"id": "x1", "cost": 50}, {"id": "x2", "cost": 50}, {"id": "y", "cost": 40}]
    ballots = [["x1", "x2"]] * 6 + [["y"]] * 4
    add1 = run("equalshares/add1", projects, 100, ballots)
    assert sorted(add1.selected) == ["x1", "y"] and add1.details["iterations"] >= 1
    # Many voters like both x's: greedy gives them two projects, MES one; greedy is preferred.
    many = [["x1", "x2"]] * 9 + [["y"]] * 1
    comp = run("equalshares/add1-comparison", projects, 100, many)
    assert comp.details["chosen"] in ("greedy", "equalshares")
    if comp.details["prefers_greedy"] > comp.details["prefers_mes"]:
        assert comp.selected == run("greedy", projects, 100, many).selected


def test_reserved_envelope_funds_the_category_first():
    projects = [
        {"id": "big", "cost": 80, "category": "roads"},
        {"id": "youth1", "cost": 30, "category": "youth"},
        {"id": "youth2", "cost": 15, "category": "youth"},
    ]
    ballots = [["big"]] * 5 + [["youth1"]] * 2 + [["youth2"]]
    assert run("greedy", projects, 100, ballots).selected == ["big", "youth2"]
    out = run("greedy", projects, 100, ballots, reserved=[{"category": "youth", "amount": 30}])
    assert out.selected == ["youth1", "youth2"] and out.details["reserved:youth"]["spent"] == 30
    with pytest.raises(TallyError, match="exceed"):
        run("greedy", projects, 100, ballots, reserved=[("youth", 101)])


def test_min_per_canton_funds_each_canton_its_best_project():
    projects = [
        {"id": "n1", "cost": 50, "canton": "Nord"},
        {"id": "n2", "cost": 50, "canton": "Nord"},
        {"id": "s1", "cost": 40, "canton": "Sud"},
    ]
    ballots = [["n1", "n2"]] * 5 + [["s1"]]
    assert run("greedy", projects, 100, ballots).selected == ["n1", "n2"]
    out = run("greedy", projects, 100, ballots, min_per_canton=True)
    assert out.selected == ["n1", "s1"] and out.details["per_canton"] == ["n1", "s1"]
    for rule in RULES:
        kw = {"threshold": 1} if rule == "greedy-threshold" else {}
        assert "s1" in run(rule, projects, 100, ballots, min_per_canton=True, **kw).selected


@pytest.mark.parametrize(
    ("kwargs", "where", "what"),
    [
        ({"rule": "borda"}, "rule", "unknown rule"),
        ({"ballots": [["a", "zz"]]}, "ballots[0]", "unknown project"),
        ({"ballots": [["a"], ["a", "a"]]}, "ballots[1]", "listed twice"),
        ({"ballots": [{"a": 1}], "kind": "approval"}, "ballots[0]", "must be a list"),
        ({"ballots": [{"a": -1}], "kind": "cumulative"}, "ballots[0].a", "non-negative"),
        ({"ballots": [["a"]], "kind": "cumulative"}, "ballots[0]", "cumulative ballot"),
        ({"kind": "stv"}, "ballot_type", "unknown ballot type"),
        ({"budget": 1.5}, "budget", "must be exact"),
        (
            {"projects": [{"id": "a", "cost": 1}, {"id": "a", "cost": 2}]},
            "projects[1].id",
            "duplicate",
        ),
        ({"projects": [{"id": "a", "cost": "x"}]}, "projects[0].cost", "not an amount"),
    ],
)
def test_bad_input_is_named(kwargs, where, what):
    rule = kwargs.pop("rule", "greedy")
    with pytest.raises(TallyError) as err:
        run(rule, **kwargs)
    assert err.value.where == where and what in str(err.value)


def test_decimal_amounts_stay_exact():
    out = run_rule(
        "greedy",
        [{"id": "a", "cost": "0.10"}, {"id": "b", "cost": "0.20"}],
        "0.30",
        [["a", "b"]],
        ballot_type="approval",
    )
    assert out.spent == Fraction(3, 10)
    assert out.to_json()["spent"] == "0.30" or out.to_json()["spent"] == "0.3"
    assert money_json(Fraction(1, 3)) == "1/3" and money_json(Fraction(5, 2)) == "2.5"


def test_run_section_reads_the_section_settings():
    section = SimpleNamespace(
        projects=[dict(p, canton="c", category="k") for p in P],
        budget=100,
        ballot={"type": "approval"},
        tally={
            "rules": ["greedy-threshold"],
            "threshold": 4,
            "min_per_canton": False,
            "reserved": [],
        },
    )
    assert run_section(section, "greedy-threshold", BALLOTS).selected == ["a"]


def test_empty_ballot_sets():
    assert run("equalshares/add1", ballots=[]).selected == []
    assert run("greedy", ballots=[[]]).selected == ["a", "c"]  # all score 0: id order, if it fits


def test_per_canton_stage_reports_the_ties_it_decided():
    projects = [
        {"id": "n1", "cost": 60, "canton": "Nord"},
        {"id": "s1", "cost": 60, "canton": "Sud"},
        {"id": "s2", "cost": 10, "canton": "Sud"},
        {"id": "s3", "cost": 10, "canton": "Sud"},
    ]
    # n1 and s1 score the same: Nord is taken first (name order), s1 no longer fits, and Sud
    # gets s2, which ties with s3 (id order).
    ballots = [["n1"], ["n1"], ["s1"], ["s1"], ["s2", "s3"]]
    out = run("greedy", projects, 80, ballots, min_per_canton=True)
    assert out.details["per_canton"] == ["n1", "s2"] and out.selected == ["n1", "s2", "s3"]
    canton_ties = [t for t in out.ties if t.get("stage") == "per_canton"]
    assert canton_ties == [
        {"score": 2, "tied": ["n1", "s1"], "funded": ["n1"], "by": "canton name order",
         "cantons": ["Nord", "Sud"], "stage": "per_canton"},
        {"score": 1, "tied": ["s2", "s3"], "funded": ["s2"], "by": "project id order",
         "canton": "Sud", "stage": "per_canton"},
    ]  # fmt: skip


def test_reserved_envelope_ties_carry_their_stage():
    projects = [
        {"id": "y1", "cost": 30, "category": "youth"},
        {"id": "y2", "cost": 30, "category": "youth"},
        {"id": "o", "cost": 10},
    ]
    out = run("greedy", projects, 100, [["y1", "y2"], ["o"]], reserved=[("youth", 30)])
    assert {"score": 1, "tied": ["y1", "y2"], "funded": ["y1"], "by": "project id order",
            "stage": "reserved:youth"} in out.ties  # fmt: skip


@pytest.mark.parametrize("kind", ["approval", "cumulative", "ranked"])
@given(data=st.data())
@settings(max_examples=40, deadline=None)
def test_ballots_sharing_one_object_count_as_separate_copies(kind, data):
    # The central hands ballots with equal selections as one shared object: make_profile counts
    # each distinct object once, times its ballots; the outcome must be that of separate copies.
    projects, budget, ballots = data.draw(elections(kind))
    shared = [data.draw(st.sampled_from(ballots)) for _ in range(data.draw(st.integers(1, 30)))]
    copies = [copy.deepcopy(b) for b in shared]
    inst = make_instance(projects, budget)
    a, b = make_profile(inst, shared, kind, shared=True), make_profile(inst, copies, kind)
    assert (a.score, a.votes, len(a.ballots)) == (b.score, b.votes, len(b.ballots))
    for rule in ("greedy", "equalshares/add1"):
        one = run_rule(rule, projects, budget, shared, ballot_type=kind, shared=True)
        two = run_rule(rule, projects, budget, copies, ballot_type=kind)
        # The central's tally hands the pairs it counted already, and the ballots regrouped.
        pairs = group_shared(shared)
        regrouped = [b for b, n in pairs for _ in range(n)]
        three = run_rule(rule, projects, budget, regrouped, ballot_type=kind, counts=pairs)
        assert one.to_json() == two.to_json() == three.to_json()


def test_a_malformed_shared_ballot_is_named_by_its_first_index():
    bad = ["a", "a"]  # twice the same project
    with pytest.raises(TallyError) as err:
        run("greedy", ballots=[["b"], bad, ["c"], bad], shared=True)
    assert "ballots[1]" in str(err.value)
