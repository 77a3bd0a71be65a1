"""Fixtures of the tally: pabutools as a test-only oracle (GPL-3.0, never imported by sync/),
a naive exact Method of Equal Shares, and hypothesis strategies for small elections.

`pabu(projects, budget, ballots, kind)` -> (Instance, Profile) of pabutools;
`pabu_greedy(...)` and `pabu_mes(..., add1=True)` -> set of funded ids;
`naive_mes(projects, budget, ballots, kind, per_voter=None)` -> funded ids in order (Fractions,
voter by voter, straight from the definition); `elections(kind)` -> hypothesis strategy of
(projects, budget, ballots).
"""

from fractions import Fraction

from hypothesis import strategies as st

KINDS = ("approval", "cumulative", "ranked")


def scores(kind, ballot):
    """Points a ballot gives: 1 per approval, its points, or k..1 by rank."""
    if kind == "cumulative":
        return {p: w for p, w in ballot.items() if w}
    if kind == "ranked":
        return {p: len(ballot) - r for r, p in enumerate(ballot)}
    return dict.fromkeys(ballot, 1)


def pabu(projects, budget, ballots, kind):
    """The same election as pabutools objects (ids as project names)."""
    from pabutools.election import (
        ApprovalBallot,
        ApprovalProfile,
        CumulativeBallot,
        CumulativeProfile,
        Instance,
        OrdinalBallot,
        OrdinalProfile,
        Project,
    )

    objs = {p["id"]: Project(p["id"], Fraction(p["cost"])) for p in projects}
    inst = Instance(objs.values(), budget_limit=Fraction(budget))
    if kind == "cumulative":
        prof = CumulativeProfile(
            [CumulativeBallot({objs[p]: w for p, w in b.items()}) for b in ballots], instance=inst
        )
    elif kind == "ranked":
        prof = OrdinalProfile([OrdinalBallot([objs[p] for p in b]) for b in ballots], instance=inst)
    else:
        prof = ApprovalProfile(
            [ApprovalBallot([objs[p] for p in b]) for b in ballots], instance=inst
        )
    return inst, prof


def score_cost_sat():
    """A pabutools satisfaction: (points of the ballot for the project) x cost."""
    from pabutools.election import AdditiveSatisfaction

    def func(instance, profile, ballot, project, precomputed):
        items = list(ballot)
        if project not in items:
            return 0
        if type(ballot).__name__.startswith("Ordinal"):  # an ordered dict: rank by position
            return (len(items) - items.index(project)) * project.cost
        if type(ballot).__name__.startswith("Cumulative"):
            return ballot[project] * project.cost
        return project.cost

    class ScoreCostSat(AdditiveSatisfaction):
        def __init__(self, instance, profile, ballot):
            AdditiveSatisfaction.__init__(self, instance, profile, ballot, func)

    return ScoreCostSat


def pabu_greedy(projects, budget, ballots, kind="approval", pb=None):
    """pabutools' greedy_utilitarian_welfare with (points x cost) satisfaction."""
    from pabutools.rules import greedy_utilitarian_welfare

    inst, prof = pb or pabu(projects, budget, ballots, kind)
    return {p.name for p in greedy_utilitarian_welfare(inst, prof, sat_class=score_cost_sat())}


def pabu_mes(projects, budget, ballots, kind="approval", add1=True, pb=None):
    """pabutools' method_of_equal_shares with cost satisfaction (add1: increment 1 per voter)."""
    from pabutools.election import Cost_Sat
    from pabutools.rules import method_of_equal_shares

    inst, prof = pb or pabu(projects, budget, ballots, kind)
    out = method_of_equal_shares(
        inst, prof, sat_class=Cost_Sat, voter_budget_increment=1 if add1 else None
    )
    return {p.name for p in out}


def naive_mes(projects, budget, ballots, kind, per_voter=None):
    """MES from its definition, voter by voter in Fractions; ties to the smallest id."""
    cost = {p["id"]: Fraction(p["cost"]) for p in projects}
    utils = [scores(kind, b) for b in ballots]
    if not utils:
        return []
    b = [Fraction(per_voter if per_voter is not None else Fraction(budget) / len(utils))] * len(
        utils
    )
    left = {p for p in cost if cost[p] > 0 and any(p in u for u in utils)}
    chosen = sorted(p for p in cost if cost[p] == 0 and any(p in u for u in utils))
    while True:
        best = None
        for p in sorted(left):
            sup = [i for i, u in enumerate(utils) if p in u]
            if sum(b[i] for i in sup) < cost[p]:
                continue
            # price per point: the smallest q with sum(min(b_i, q w_i)) >= cost
            order = sorted(sup, key=lambda i, p=p: b[i] / utils[i][p])
            paid, weight = Fraction(0), sum(utils[i][p] for i in sup)
            for i in order:
                q = (cost[p] - paid) / weight
                if q * utils[i][p] <= b[i]:
                    break
                paid += b[i]
                weight -= utils[i][p]
            rho = q / cost[p]
            if best is None or rho < best[0]:
                best = (rho, p, q, sup)
        if best is None:
            return chosen
        _, p, q, sup = best
        for i in sup:
            b[i] -= min(b[i], q * utils[i][p])
        chosen.append(p)
        left.discard(p)


# Ids chosen so that string order differs from numeric order ("10" < "9").
IDS = ["1", "2", "9", "10", "11", "a", "B", "p/3", "x.1", "Z9"]


@st.composite
def elections(draw, kind="approval", max_projects=7, max_voters=12, max_cost=40):
    """(projects, budget, ballots): a small random election of the given ballot kind."""
    ids = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=max_projects, unique=True))
    costs = draw(st.lists(st.integers(1, max_cost), min_size=len(ids), max_size=len(ids)))
    projects = [{"id": p, "cost": c} for p, c in zip(ids, costs, strict=True)]
    budget = draw(st.integers(1, max(1, sum(costs))))
    n = draw(st.integers(1, max_voters))
    ballots = []
    for _ in range(n):
        chosen = draw(st.lists(st.sampled_from(ids), max_size=len(ids), unique=True))
        if kind == "cumulative":
            ballots.append({p: draw(st.integers(1, 4)) for p in chosen})
        elif kind == "ranked":
            ballots.append(chosen)
        else:
            ballots.append(sorted(chosen))
    return projects, budget, ballots
