"""Ballot rules: selection shapes, checks (table and properties), scores and costs."""

import pytest
from fixtures_election import base_source, section
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import ballot
from sync.election import Section, validate_source
from sync.errors import SelectionError


def make_section(ballot_rule, costs=(100, 200, 300, 400), budget=None):
    """A validated Section with projects p1.. of the given costs."""
    src = base_source()
    s = section(
        "s", n=len(costs), ballot=ballot_rule, budget=budget or max(sum(costs) // 2, max(costs))
    )
    for p, cost in zip(s["projects"], costs, strict=True):
        p["cost"] = cost
        p["id"] = p["id"].removeprefix("s-")
    src["sections"] = [s]
    return Section(validate_source(src)["sections"][0])


APPROVAL = make_section({"type": "approval", "min": 1, "max": 3})
EXACTLY_3 = make_section({"type": "approval", "min": 3, "max": 3})
KNAPSACK = make_section({"type": "knapsack", "min_spend": 200}, budget=500)
CUMULATIVE = make_section({"type": "cumulative", "points": 5, "max_per_project": 3})
RANKED = make_section({"type": "ranked", "k": 3})

VALID = [
    (APPROVAL, ["p1"]),
    (APPROVAL, ["p1", "p2", "p4"]),
    (EXACTLY_3, ["p1", "p2", "p3"]),
    (KNAPSACK, ["p1", "p4"]),
    (KNAPSACK, ["p2"]),
    (CUMULATIVE, {"p1": 3, "p2": 2}),
    (CUMULATIVE, {}),
    (RANKED, ["p3", "p1"]),
    (RANKED, ["p4", "p3", "p2"]),
]

INVALID = [
    (APPROVAL, [], "wrong number", "1 to 3 projects"),
    (APPROVAL, ["p1", "p2", "p3", "p4"], "wrong number", "1 to 3 projects"),
    (EXACTLY_3, ["p1", "p2"], "wrong number", "exactly 3"),
    (APPROVAL, ["p2", "p1"], "not sorted", "sorted ids"),
    (APPROVAL, ["p1", "p1"], "chosen twice", "distinct projects"),
    (APPROVAL, ["p9"], "unknown project", "a project of section s"),
    (APPROVAL, [1], "not a string", "string"),
    (APPROVAL, "p1", "list of project ids", "list"),
    (APPROVAL, {"p1": 1}, "list of project ids", "list"),
    (KNAPSACK, ["p2", "p4"], "exceeds the budget", "<= 500"),
    (KNAPSACK, ["p1"], "spends too little", ">= 200"),
    (KNAPSACK, [], "spends too little", ">= 200"),
    (KNAPSACK, ["p4", "p1"], "not sorted", "sorted ids"),
    (CUMULATIVE, {"p1": 4}, "points out of range", "1 to 3"),
    (CUMULATIVE, {"p1": 0}, "points out of range", "1 to 3"),
    (CUMULATIVE, {"p1": True}, "points out of range", "1 to 3"),
    (CUMULATIVE, {"p1": 3, "p2": 3}, "too many points", "<= 5"),
    (CUMULATIVE, {"p9": 1}, "unknown project", "a project of section s"),
    (CUMULATIVE, ["p1"], "object of points", "{project: points}"),
    (RANKED, [], "wrong number of ranks", "1 to 3 projects"),
    (RANKED, ["p1", "p2", "p3", "p4"], "wrong number of ranks", "1 to 3 projects"),
    (RANKED, ["p1", "p1"], "chosen twice", "distinct projects"),
]


@pytest.mark.parametrize(("sec", "selection"), VALID)
def test_valid_selections_pass(sec, selection):
    assert ballot.validate_selection(sec, selection) is selection


@pytest.mark.parametrize(("sec", "selection", "word", "expected"), INVALID)
def test_invalid_selections_are_refused_with_the_reason(sec, selection, word, expected):
    with pytest.raises(SelectionError, match=word) as info:
        sec.validate(selection, where="ballot.s")
    assert info.value.where.startswith("ballot.s")
    assert info.value.expected == expected


def test_scores_per_ballot_type():
    assert APPROVAL.scores(["p1", "p3"]) == {"p1": 1, "p3": 1}
    assert KNAPSACK.scores(["p1", "p4"]) == {"p1": 1, "p4": 1}
    assert CUMULATIVE.scores({"p1": 3, "p2": 2}) == {"p1": 3, "p2": 2}
    # A ranked ballot of length 2 under k=3 scores the ranks given: 3, then 2.
    assert RANKED.scores(["p3", "p1"]) == {"p3": 3, "p1": 2}
    assert RANKED.scores(["p4", "p3", "p2"]) == {"p4": 3, "p3": 2, "p2": 1}


def test_cost_blank_and_normalise():
    assert ballot.selection_cost(KNAPSACK, ["p1", "p4"]) == 500
    assert CUMULATIVE.cost({"p1": 3, "p2": 1}) == 300
    assert [ballot.blank_allowed(s) for s in (APPROVAL, KNAPSACK, CUMULATIVE, RANKED)] == [
        False,
        False,
        True,
        False,
    ]
    assert ballot.blank_allowed(make_section({"type": "approval", "max": 2}))
    assert ballot.blank(CUMULATIVE) == {} and ballot.blank(RANKED) == []
    assert ballot.normalise_selection(APPROVAL, {"p3", "p1"}) == ["p1", "p3"]
    assert ballot.normalise_selection(RANKED, ("p3", "p1")) == ["p3", "p1"]


# Properties ------------------------------------------------------------------------------

costs_st = st.lists(st.integers(1, 100), min_size=1, max_size=7)


@st.composite
def sections(draw):
    """Any valid section of any ballot type, over 1 to 7 projects."""
    costs = draw(costs_st)
    n = len(costs)
    budget = draw(st.integers(max(costs), sum(costs) + 50))
    kind = draw(st.sampled_from(ballot_types))
    if kind == "approval":
        hi = draw(st.integers(1, n))
        rule = {"type": kind, "min": draw(st.integers(0, hi)), "max": hi}
    elif kind == "knapsack":
        rule = {"type": kind, "min_spend": draw(st.integers(0, min(budget, sum(costs))))}
    elif kind == "cumulative":
        points = draw(st.integers(1, 10))
        rule = {"type": kind, "points": points, "max_per_project": draw(st.integers(1, points))}
    else:
        rule = {"type": kind, "k": draw(st.integers(1, n))}
    return make_section(rule, costs=tuple(costs), budget=budget)


ballot_types = ("approval", "knapsack", "cumulative", "ranked")


def oracle(sec, sel):
    """An independent statement of each rule: True when the selection is valid."""
    ids = {p["id"]: p["cost"] for p in sec.projects}
    rule = sec.ballot
    if rule["type"] == "cumulative":
        if not isinstance(sel, dict) or not set(sel) <= set(ids):
            return False
        pts = list(sel.values())
        ok_types = all(type(v) is int for v in pts)
        return (
            ok_types
            and all(1 <= v <= rule["max_per_project"] for v in pts)
            and sum(pts) <= rule["points"]
        )
    if not isinstance(sel, list) or not all(isinstance(x, str) and x in ids for x in sel):
        return False
    if len(set(sel)) != len(sel):
        return False
    if rule["type"] == "ranked":
        return 1 <= len(sel) <= rule["k"]
    if sel != sorted(sel):
        return False
    if rule["type"] == "approval":
        return rule["min"] <= len(sel) <= rule["max"]
    cost = sum(ids[x] for x in sel)
    return rule["min_spend"] <= cost <= sec.budget


ids_st = st.sampled_from(["p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "zz"])
any_selection = st.one_of(
    st.lists(ids_st, max_size=9),
    st.lists(ids_st, max_size=9, unique=True).map(sorted),
    st.dictionaries(ids_st, st.one_of(st.integers(-1, 11), st.booleans()), max_size=8),
)


@settings(max_examples=200, deadline=None)
@given(sec=sections(), sel=any_selection)
def test_validation_agrees_with_the_oracle(sec, sel):
    if oracle(sec, sel):
        sec.validate(sel)
        assert set(sec.scores(sel)) == set(sel)
    else:
        with pytest.raises(SelectionError):
            sec.validate(sel)


@st.composite
def valid_pairs(draw):
    """A section and a selection that is valid under its rule, built constructively."""
    sec = draw(sections())
    rule, ids = sec.ballot, [p["id"] for p in sec.projects]
    if rule["type"] == "approval":
        size = draw(st.integers(rule["min"], rule["max"]))
        return sec, sorted(draw(st.permutations(ids))[:size])
    if rule["type"] == "ranked":
        size = draw(st.integers(1, rule["k"]))
        return sec, list(draw(st.permutations(ids))[:size])
    if rule["type"] == "cumulative":
        sel, left = {}, rule["points"]
        for pid in draw(st.permutations(ids)):
            if left and draw(st.booleans()):
                sel[pid] = draw(st.integers(1, min(left, rule["max_per_project"])))
                left -= sel[pid]
        return sec, sel
    # knapsack: a subset within the budget; its cost becomes the minimum spend, the tightest case.
    chosen, spent = [], 0
    for pid in draw(st.permutations(ids)):
        cost = sec.project(pid)["cost"]
        if spent + cost <= sec.budget and draw(st.booleans()):
            chosen.append(pid)
            spent += cost
    tight = make_section(
        {"type": "knapsack", "min_spend": spent},
        costs=tuple(p["cost"] for p in sec.projects),
        budget=sec.budget,
    )
    return tight, sorted(chosen)


def _mutations(sec, sel):
    """Changes that each break the section's rule (only those that apply to this selection)."""
    rule, ids = sec.ballot, [p["id"] for p in sec.projects]
    out = [("unknown", (sel | {"zz": 1}) if isinstance(sel, dict) else [*sel, "zz"])]
    if isinstance(sel, list) and sel:
        out.append(("duplicate", [*sel, sel[0]]))
    unused = [p for p in ids if p not in sel]
    if rule["type"] == "approval":
        if len(sel) == rule["max"] and unused:
            out.append(("too many", sorted([*sel, unused[0]])))
        if len(sel) == rule["min"] and sel:
            out.append(("too few", sel[1:]))
    if rule["type"] in ("approval", "knapsack") and len(sel) >= 2:
        out.append(("unsorted", list(reversed(sel))))
    if rule["type"] == "ranked":
        if len(sel) == rule["k"] and unused:
            out.append(("too many", [*sel, unused[0]]))
        out.append(("empty", []))
    if rule["type"] == "knapsack":
        if sel:
            out.append(("under min_spend", sel[1:]))
        over = sorted(ids)
        if sum(p["cost"] for p in sec.projects) > sec.budget:
            out.append(("over budget", over))
    if rule["type"] == "cumulative":
        if sel:
            pid = next(iter(sel))
            out.append(("zero points", {**sel, pid: 0}))
            out.append(("over per-project", {**sel, pid: rule["max_per_project"] + 1}))
        if unused:
            spare = rule["points"] - sum(sel.values()) + 1
            if spare <= rule["max_per_project"]:
                out.append(("over points", {**sel, unused[0]: spare}))
        out.append(("not an object", list(sel)))
    return out


@settings(max_examples=200, deadline=None)
@given(pair=valid_pairs(), pick=st.integers(0, 20))
def test_valid_selections_validate_and_every_mutation_is_refused(pair, pick):
    sec, sel = pair
    sec.validate(sel)
    mutations = _mutations(sec, sel)
    name, broken = mutations[pick % len(mutations)]
    with pytest.raises(SelectionError):
        sec.validate(broken)
    assert not oracle(sec, broken), name
