"""The four ballot types: selection shapes, rule checks, scores and costs."""

from .errors import SelectionError

# approval / knapsack: sorted list of distinct project ids (one canonical form per choice).
# cumulative: object {project id: points}.  ranked: list of distinct ids in rank order.
LIST_TYPES = ("approval", "knapsack")


def _ids(section, selection, where):
    if not isinstance(selection, list):
        raise SelectionError(
            "expected a list of project ids",
            where=where,
            expected="list",
            got=type(selection).__name__,
        )
    seen = set()
    for i, pid in enumerate(selection):
        if not isinstance(pid, str):
            raise SelectionError(
                "project id is not a string",
                where=f"{where}[{i}]",
                expected="string",
                got=type(pid).__name__,
            )
        if section.find(pid) is None:
            raise SelectionError(
                "unknown project",
                where=f"{where}[{i}]",
                expected=f"a project of section {section.id}",
                got=repr(pid[:40]),
            )
        if pid in seen:
            raise SelectionError(
                "project chosen twice",
                where=f"{where}[{i}]",
                expected="distinct projects",
                got=repr(pid),
            )
        seen.add(pid)
    return selection


def _sorted(selection, where):
    if selection != sorted(selection):
        raise SelectionError(
            "project ids are not sorted", where=where, expected="sorted ids", got=selection[:5]
        )


def _approval(section, selection, where):
    _ids(section, selection, where)
    _sorted(selection, where)
    lo, hi = section.ballot["min"], section.ballot["max"]
    if not lo <= len(selection) <= hi:
        expected = f"exactly {lo}" if lo == hi else f"{lo} to {hi} projects"
        raise SelectionError(
            "wrong number of projects", where=where, expected=expected, got=len(selection)
        )


def _knapsack(section, selection, where):
    _ids(section, selection, where)
    _sorted(selection, where)
    cost = selection_cost(section, selection)
    if cost > section.budget:
        raise SelectionError(
            "selection exceeds the budget", where=where, expected=f"<= {section.budget}", got=cost
        )
    min_spend = section.ballot["min_spend"]
    if cost < min_spend:
        raise SelectionError(
            "selection spends too little", where=where, expected=f">= {min_spend}", got=cost
        )


def _cumulative(section, selection, where):
    if not isinstance(selection, dict):
        raise SelectionError(
            "expected an object of points",
            where=where,
            expected="{project: points}",
            got=type(selection).__name__,
        )
    per = section.ballot["max_per_project"]
    for pid, points in selection.items():
        if not isinstance(pid, str) or section.find(pid) is None:
            raise SelectionError(
                "unknown project",
                where=f"{where}.{pid}",
                expected=f"a project of section {section.id}",
                got=repr(str(pid)[:40]),
            )
        if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= per:
            raise SelectionError(
                "points out of range",
                where=f"{where}.{pid}",
                expected=f"1 to {per}",
                got=repr(points),
            )
    total = sum(selection.values())
    if total > section.ballot["points"]:
        raise SelectionError(
            "too many points", where=where, expected=f"<= {section.ballot['points']}", got=total
        )


def _ranked(section, selection, where):
    _ids(section, selection, where)
    k = section.ballot["k"]
    if not 1 <= len(selection) <= k:
        raise SelectionError(
            "wrong number of ranks", where=where, expected=f"1 to {k} projects", got=len(selection)
        )


_CHECKS = {
    "approval": _approval,
    "knapsack": _knapsack,
    "cumulative": _cumulative,
    "ranked": _ranked,
}


def validate_selection(section, selection, *, where=None):
    """Raise SelectionError unless the selection is valid under the section's rule."""
    _CHECKS[section.ballot["type"]](section, selection, where or f"selections.{section.id}")
    return selection


def normalise_selection(section, selection):
    """The canonical form of a choice (approval/knapsack ids sorted); does not validate."""
    if section.ballot["type"] in LIST_TYPES and isinstance(
        selection, (list, tuple, set, frozenset)
    ):
        return sorted(selection)
    if section.ballot["type"] == "ranked" and isinstance(selection, tuple):
        return list(selection)
    return selection


def blank_allowed(section):
    """Whether an empty selection (a blank ballot for this section) is valid."""
    ballot = section.ballot
    kind = ballot["type"]
    if kind == "approval":
        return ballot["min"] == 0
    if kind == "knapsack":
        return ballot["min_spend"] == 0
    return kind == "cumulative"


def blank(section):
    """The empty selection of this section's shape."""
    return {} if section.ballot["type"] == "cumulative" else []


def scores(section, selection):
    """Points per project of one valid selection (rank r of k scores k - r + 1)."""
    kind = section.ballot["type"]
    if kind == "cumulative":
        return dict(selection)
    if kind == "ranked":
        k = section.ballot["k"]
        return {pid: k - rank for rank, pid in enumerate(selection)}
    return {pid: 1 for pid in selection}


def selection_cost(section, selection):
    """Total cost of the projects a selection supports (any points count once)."""
    return sum(section.project(pid)["cost"] for pid in selection)
