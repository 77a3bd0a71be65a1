"""`run_rule`: one entry point for every rule, with the département constraints around it."""

from fractions import Fraction

from ..errors import TallyError
from .completion import add1_comparison, equal_shares
from .greedy import greedy, order_by_score
from .model import RULES, Outcome, make_instance, make_profile, money


def run_rule(
    rule,
    projects,
    budget,
    ballots,
    *,
    ballot_type,
    threshold=None,
    min_per_canton=False,
    reserved=(),
    shared=False,
    counts=None,
    workers=1,
):
    """Tally one section: returns an Outcome (see the package docstring and docs/tally.md).

    `shared=True`: many ballots are one shared object (the central's tally): each distinct
    object is checked and counted once, times its ballots. `counts`: those (object, ballots)
    pairs (model.group_shared), if the caller has them already. `workers`: processes for the
    Equal Shares completions (see completion.equal_shares).
    """
    if rule not in RULES:
        raise TallyError("unknown rule", where="rule", expected="/".join(RULES), got=rule)
    instance = make_instance(projects, budget)
    profile = make_profile(instance, ballots, ballot_type, shared=shared, counts=counts)
    if rule == "greedy-threshold" and threshold is None:
        raise TallyError(
            "greedy-threshold needs a threshold",
            where="threshold",
            expected="a minimum score",
            got=None,
        )
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0
    ):
        raise TallyError(
            "threshold must be a non-negative integer", where="threshold", got=repr(threshold)
        )
    envelopes = _envelopes(instance, reserved)
    selected, ties, details = [], [], {}
    left = instance.budget
    # 1. Reserved envelopes: the rule, limited to the category, within the envelope.
    for category, amount in envelopes:
        ids = [
            p for p in instance.ids if instance.category.get(p) == category and p not in selected
        ]
        sel, spent, t, _ = _apply(
            rule, instance.restrict(ids, min(amount, left)), profile, threshold, workers
        )
        selected += sel
        left -= spent
        ties += [dict(x, stage=f"reserved:{category}") for x in t]
        details[f"reserved:{category}"] = {"amount": amount, "spent": spent, "selected": sel}
    # 2. One project per canton: each canton without one gets its best-scoring project that fits.
    if min_per_canton:
        sel, spent, t = _per_canton(instance, profile, selected, left, threshold)
        selected += sel
        left -= spent
        ties += t
        details["per_canton"] = sel
    # 3. The rule on everything else, with what is left.
    ids = [p for p in instance.ids if p not in selected]
    sel, spent, t, d = _apply(rule, instance.restrict(ids, left), profile, threshold, workers)
    selected += sel
    ties += t
    details.update(d)
    total = _whole(sum((instance.cost[p] for p in selected), Fraction(0)))
    return Outcome(
        rule,
        _whole(instance.budget),
        selected,
        total,
        profile.votes,
        profile.score,
        ties,
        _jsonable(details),
    )


def _whole(amount):
    # Whole amounts as int, so callers can put them straight into canonical JSON.
    return amount.numerator if amount.denominator == 1 else amount


def _envelopes(instance, reserved):
    out = []
    for i, r in enumerate(reserved or ()):
        if isinstance(r, dict):
            category, amount = r.get("category"), r.get("amount")
        else:
            category, amount = r
        out.append((category, money(amount, f"reserved[{i}].amount")))
    if sum((a for _, a in out), Fraction(0)) > instance.budget:
        raise TallyError(
            "reserved envelopes exceed the budget",
            where="reserved",
            expected=f"<= {instance.budget}",
        )
    return out


def _apply(rule, instance, profile, threshold, workers=1):
    """(selected, spent, ties, details) of one rule on an instance."""
    if rule == "greedy":
        return (*greedy(instance, profile), {})
    if rule == "greedy-no-skip":
        return (*greedy(instance, profile, skip=False, threshold=threshold), {})
    if rule == "greedy-threshold":
        return (*greedy(instance, profile, threshold=threshold), {})
    if rule == "equalshares":
        return equal_shares(instance, profile)
    if rule == "equalshares/add1":
        return equal_shares(instance, profile, completion="add1", workers=workers)
    return add1_comparison(instance, profile, workers=workers)


def _per_canton(instance, profile, already, left, threshold):
    """Fund, canton by canton, the best-scoring project of each canton that has none yet."""
    cantons = {}
    for p in order_by_score(instance.ids, profile.score):
        c = instance.canton.get(p)
        if (
            c is None
            or (threshold is not None and profile.score[p] < threshold)
            or profile.score[p] <= 0
        ):
            continue
        cantons.setdefault(c, []).append(p)
    covered = {instance.canton.get(p) for p in already}
    # Cantons whose best project scores highest go first; canton name breaks ties.
    order = sorted(
        (c for c in cantons if c not in covered), key=lambda c: (-profile.score[cantons[c][0]], c)
    )
    selected, spent, funded_in = [], Fraction(0), {}
    for c in order:
        for p in cantons[c]:
            if instance.cost[p] <= left - spent:
                selected.append(p)
                spent += instance.cost[p]
                funded_in[c] = p
                break
    return selected, spent, _canton_ties(cantons, order, funded_in, profile.score)


def _canton_ties(cantons, order, funded_in, score):
    """Ties the per-canton stage decided: by canton name between cantons, by id within one."""
    ties = []
    by_score = {}
    for c in order:
        by_score.setdefault(score[cantons[c][0]], []).append(c)
    for value, group in by_score.items():
        # Cantons whose best projects score the same were taken in name order: when some best
        # projects were funded and others not (no longer fitting), that order decided it.
        best = {c: cantons[c][0] for c in group}
        won = sorted(best[c] for c in group if funded_in.get(c) == best[c])
        if len(group) > 1 and 0 < len(won) < len(group):
            ties.append(
                {
                    "score": value,
                    "tied": sorted(best.values()),
                    "funded": won,
                    "by": "canton name order",
                    "cantons": sorted(group),
                    "stage": "per_canton",
                }
            )
    for c in order:
        if c not in funded_in:
            continue
        # Within a canton, a project after the funded one with the same score lost on id order
        # (one before it with that score was tried first and did not fit: no tie there).
        p = funded_in[c]
        rest = cantons[c][cantons[c].index(p) + 1 :]
        lost = [q for q in rest if score[q] == score[p]]
        if lost:
            ties.append(
                {
                    "score": score[p],
                    "tied": sorted([p, *lost]),
                    "funded": [p],
                    "by": "project id order",
                    "canton": c,
                    "stage": "per_canton",
                }
            )
    return ties


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Fraction):
        from .model import money_json

        return money_json(value)
    return value


def run_section(section, rule, selections, *, shared=False, counts=None):
    """Tally an election Section (sync/election.py) under `rule` from its counted selections."""
    tally = section.tally
    return run_rule(
        rule,
        section.projects,
        section.budget,
        selections,
        ballot_type=section.ballot["type"],
        threshold=tally.get("threshold") or None,
        min_per_canton=bool(tally.get("min_per_canton")),
        reserved=tally.get("reserved") or (),
        shared=shared,
        counts=counts,
    )
