"""Equal Shares and its completions: pabutools' add1, and Wieliczka's add1 with comparison."""

from fractions import Fraction

from .greedy import greedy
from .mes import MesData, mes_run


def _exhaustive(data, selected_cols, spent):
    # No supported project left out would still fit the real budget.
    chosen = set(selected_cols)
    return all(j in chosen or spent + data.cost[j] > data.budget for j in data.eligible)


def equal_shares(instance, profile, *, completion=None, candidates=None):
    """MES, or its 'add1' / 'add1-comparison' completion: (ids, spent, ties, details)."""
    # add1 (pabutools): start at budget/n per voter; while not exhaustive, add one currency unit
    # per voter and rerun; stop at the first exhaustive outcome, or keep the previous one when
    # the next would overspend. add1-comparison goes on past exhaustive outcomes.
    data = MesData(instance, profile, candidates)
    if profile.n == 0 or not data.ids:
        return [], Fraction(0), [], {"per_voter": None, "iterations": 0}
    t = Fraction(data.budget, profile.n)
    step = data.scale  # one currency unit in scaled units
    sel, spent, ties, trace = mes_run(data, t)
    iterations = 1
    if completion is not None:
        while completion == "add1-comparison" or not _exhaustive(data, trace, spent):
            nxt = mes_run(data, t + step, hints=trace)
            iterations += 1
            if nxt[1] > data.budget:
                break
            t += step
            sel, spent, ties, trace = nxt
            if len(trace) == len(data.eligible):
                break  # every candidate funded: more money cannot change anything
    details = {"per_voter": Fraction(t, data.scale), "iterations": iterations}
    return sel, Fraction(spent, data.scale), ties, details


def satisfaction(profile, funded):
    """Per ballot group: the sum of its scores over funded projects (approval: how many funded)."""
    funded = set(funded)
    return [(sum(w for p, w in items if p in funded), mult) for items, mult in profile.groups]


def compare(profile, mes_sel, greedy_sel):
    """(prefers_mes, prefers_greedy): voters strictly better off under each outcome."""
    a = satisfaction(profile, mes_sel)
    b = satisfaction(profile, greedy_sel)
    prefers_mes = sum(m for (x, m), (y, _) in zip(a, b, strict=True) if x > y)
    prefers_greedy = sum(m for (x, m), (y, _) in zip(a, b, strict=True) if y > x)
    return prefers_mes, prefers_greedy


def add1_comparison(instance, profile):
    """Wieliczka 2023: MES add1 to the last fitting budget, then greedy wins only if more prefer it."""
    sel, spent, ties, details = equal_shares(instance, profile, completion="add1-comparison")
    g_sel, g_spent, g_ties = greedy(instance, profile)
    pm, pg = compare(profile, sel, g_sel)
    details = dict(details, prefers_mes=pm, prefers_greedy=pg, chosen="equalshares")
    if pg > pm:
        details["chosen"] = "greedy"
        return g_sel, g_spent, g_ties, details
    return sel, spent, ties, details
