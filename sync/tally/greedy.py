"""Greedy rules: fund projects by descending score while they fit (with or without skipping)."""


def order_by_score(ids, score):
    """Descending score, ties broken by project id (string order, as pabutools does)."""
    return sorted(ids, key=lambda p: (-score[p], p))


def greedy(instance, profile, *, skip=True, threshold=None):
    """(selected, spent, ties) of greedy (skip), greedy-no-skip or with a minimum score."""
    # Eligible projects (score >= threshold, when given) by descending score; each is funded if
    # it fits what is left; without `skip` the first that does not fit ends the allocation.
    score = profile.score
    ids = [p for p in instance.ids if threshold is None or score[p] >= threshold]
    remaining = instance.budget
    selected, stopped = [], False
    for pid in order_by_score(ids, score):
        if stopped:
            continue
        if instance.cost[pid] <= remaining:
            selected.append(pid)
            remaining -= instance.cost[pid]
        elif not skip:
            stopped = True
    return selected, instance.budget - remaining, score_ties(ids, score, set(selected))


def score_ties(ids, score, funded):
    """Groups of equal score whose members were not all treated alike (the id order decided)."""
    by_score = {}
    for pid in ids:
        by_score.setdefault(score[pid], []).append(pid)
    ties = []
    for value, group in sorted(by_score.items(), reverse=True):
        fates = {pid in funded for pid in group}
        if len(group) > 1 and len(fates) > 1:
            ties.append(
                {
                    "score": value,
                    "tied": sorted(group),
                    "funded": sorted(p for p in group if p in funded),
                    "by": "project id order",
                }
            )
    return ties
