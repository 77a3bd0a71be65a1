"""Tally inputs and outputs: exact money, the validated instance and profile, the Outcome."""

import gc
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from itertools import chain, repeat
from math import lcm

from ..errors import TallyError

RULES = (
    "greedy",
    "greedy-no-skip",
    "greedy-threshold",
    "equalshares",
    "equalshares/add1",
    "equalshares/add1-comparison",
)
BALLOT_TYPES = ("approval", "knapsack", "cumulative", "ranked")


def money(value, where):
    """An exact non-negative amount from int, Fraction, Decimal or a decimal string (never a float)."""
    if isinstance(value, (bool, float)):
        raise TallyError(
            "amount must be exact",
            where=where,
            expected="integer or decimal string",
            got=repr(value),
        )
    try:
        if isinstance(value, str):
            amount = Fraction(Decimal(value.strip()))
        elif isinstance(value, (int, Fraction, Decimal)):
            amount = Fraction(value)
        else:
            raise TypeError
    except (InvalidOperation, TypeError, ValueError, ArithmeticError) as exc:
        raise TallyError(
            "not an amount", where=where, expected="a number", got=repr(value)
        ) from exc
    if amount < 0:
        raise TallyError("negative amount", where=where, expected=">= 0", got=value)
    return amount


def money_json(amount):
    """An amount as JSON: an int when whole, else its exact decimal (or p/q) as a string."""
    amount = Fraction(amount)
    if amount.denominator == 1:
        return amount.numerator
    den = amount.denominator
    for prime in (2, 5):
        while den % prime == 0:
            den //= prime
    if den == 1:
        digits = 0
        while (amount * 10**digits).denominator != 1:
            digits += 1
        return f"{Decimal(amount.numerator) / Decimal(amount.denominator):.{digits}f}"
    return f"{amount.numerator}/{amount.denominator}"


@dataclass(frozen=True)
class Instance:
    """Projects (ids in the given order) with exact costs, cantons and categories, and a budget."""

    ids: tuple
    cost: dict
    budget: Fraction
    canton: dict = field(default_factory=dict)
    category: dict = field(default_factory=dict)

    @property
    def scale(self):
        """The smallest integer making every cost and the budget whole (1 for euro amounts)."""
        return lcm(self.budget.denominator, *(c.denominator for c in self.cost.values()))

    def restrict(self, ids, budget):
        """The same projects limited to `ids` (order kept) with another budget."""
        keep = [p for p in self.ids if p in set(ids)]
        return Instance(
            tuple(keep),
            {p: self.cost[p] for p in keep},
            Fraction(budget),
            {p: self.canton.get(p) for p in keep},
            {p: self.category.get(p) for p in keep},
        )


def make_instance(projects, budget):
    """Validate projects (dicts with id, cost, optional canton/category) and the budget."""
    if isinstance(projects, dict):
        projects = [{"id": k, "cost": v} for k, v in projects.items()]
    ids, cost, canton, category = [], {}, {}, {}
    for i, p in enumerate(projects):
        where = f"projects[{i}]"
        if not isinstance(p, dict) or "id" not in p or "cost" not in p:
            raise TallyError(
                "project needs an id and a cost",
                where=where,
                expected="{id, cost}",
                got=repr(p)[:60],
            )
        pid = p["id"]
        if not isinstance(pid, str) or not pid:
            raise TallyError(
                "project id must be a non-empty string", where=f"{where}.id", got=repr(pid)
            )
        if pid in cost:
            raise TallyError(
                "duplicate project id", where=f"{where}.id", expected="unique ids", got=pid
            )
        ids.append(pid)
        cost[pid] = money(p["cost"], f"{where}.cost")
        canton[pid] = p.get("canton")
        category[pid] = p.get("category")
    return Instance(tuple(ids), cost, money(budget, "budget"), canton, category)


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while a tally builds its data: ballots are hundreds of
    thousands to millions of tuples and no cycle, and the collections they trigger cost a third
    of a 1,000,000-ballot collect() and of a Pabulib file's parse and setup."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class Profile:
    """Validated ballots of one section: scores now, identical ballots grouped on demand."""

    def __init__(self, ballot_type, ballots, score, votes):
        self.ballot_type = ballot_type
        self.ballots = ballots
        self.n = len(ballots)
        self.score = score
        self.votes = votes
        self._groups = None

    @property
    def groups(self):
        """[(((project, weight), ...), count), ...]: identical ballots once, with their count."""
        if self._groups is None:
            kind = self.ballot_type
            if kind == "cumulative":
                raw = Counter(tuple(sorted(b.items())) for b in self.ballots)
                grouped = Counter()
                for key, mult in raw.items():
                    grouped[tuple((p, w) for p, w in key if w)] += mult
            else:
                raw = Counter(map(tuple, self.ballots))
                grouped = Counter()
                for key, mult in raw.items():
                    grouped[_weights(kind, key)] += mult
            self._groups = list(grouped.items())
        return self._groups


def _weights(kind, ballot):
    # The score a ballot gives each project: 1 per approval, the points, or k..1 by rank.
    if kind in ("approval", "knapsack"):
        return tuple(zip(sorted(ballot), repeat(1)))
    if kind == "cumulative":
        return tuple(sorted((p, w) for p, w in ballot.items() if w))
    k = len(ballot)
    return tuple(sorted((p, k - r) for r, p in enumerate(ballot)))


def _check_ballot(kind, ballot, known, where):
    if kind == "cumulative":
        if not isinstance(ballot, dict):
            raise TallyError(
                "cumulative ballot must map project ids to points",
                where=where,
                got=type(ballot).__name__,
            )
        for pid, pts in ballot.items():
            if isinstance(pts, bool) or not isinstance(pts, int) or pts < 0:
                raise TallyError(
                    "points must be a non-negative integer", where=f"{where}.{pid}", got=repr(pts)
                )
        pids = list(ballot)
    else:
        if not isinstance(ballot, (list, tuple)):
            raise TallyError(
                "ballot must be a list of project ids", where=where, got=type(ballot).__name__
            )
        pids = list(ballot)
        if len(set(pids)) != len(pids):
            raise TallyError("project listed twice", where=where, expected="distinct ids", got=pids)
    for pid in pids:
        if pid not in known:
            raise TallyError(
                "unknown project", where=where, expected="a project of the section", got=repr(pid)
            )


def group_shared(ballots):
    """[(ballot, how many)] of a list whose equal ballots may be one shared object (by identity)."""
    times = Counter(map(id, ballots))
    distinct = dict(zip(map(id, ballots), ballots, strict=True))
    return [(distinct[k], n) for k, n in times.items()]


def make_profile(instance, ballots, ballot_type, *, shared=False, counts=None):
    """Validate the selections of one section and count exact integer scores and votes.

    `shared=True`: many ballots are one object (see rules.run_rule), counted once each.
    `counts`: group_shared(ballots), when the caller has it already (implies shared).
    """
    if ballot_type not in BALLOT_TYPES:
        raise TallyError(
            "unknown ballot type",
            where="ballot_type",
            expected="/".join(BALLOT_TYPES),
            got=ballot_type,
        )
    ballots = list(ballots)
    known = set(instance.ids)
    score = dict.fromkeys(instance.ids, 0)
    votes = dict.fromkeys(instance.ids, 0)
    # The central hands many ballots that are one shared object (same selections): check and
    # count each distinct object once, times how many ballots hold it. Otherwise (a .pb file)
    # the plain loops: asking whether objects are shared costs as much as it saves.
    shared = shared or counts is not None
    pairs = (counts if counts is not None else group_shared(ballots)) if shared else None
    each = [b for b, _ in pairs] if shared else ballots
    try:
        if ballot_type == "cumulative":
            if not all(type(b) is dict for b in each):
                raise TypeError
            for b, n in pairs or zip(ballots, repeat(1)):
                for pid, pts in b.items():
                    if type(pts) is not int or pts < 0:
                        raise TypeError
                    score[pid] += pts * n
                    votes[pid] += (pts > 0) * n
        else:
            if not all(type(b) in (list, tuple) for b in each):
                raise TypeError
            if any(len(set(b)) != len(b) for b in each):
                raise TypeError
            if ballot_type == "ranked":
                for b, n in pairs or zip(ballots, repeat(1)):
                    k = len(b)
                    for r, pid in enumerate(b):
                        score[pid] += (k - r) * n
                        votes[pid] += n
            elif shared:
                for b, n in pairs:
                    for pid in b:
                        score[pid] += n
                        votes[pid] += n
            else:
                for pid, n in Counter(chain.from_iterable(ballots)).items():
                    score[pid] += n
                    votes[pid] += n
        if len(score) != len(known) or len(votes) != len(known):
            raise TypeError
    except (TypeError, KeyError, AttributeError):
        # Slow path, only on error: name the first bad ballot by its index.
        for i, ballot in enumerate(ballots):
            _check_ballot(ballot_type, ballot, known, f"ballots[{i}]")
        raise TallyError("malformed ballots", where="ballots") from None
    return Profile(ballot_type, ballots, score, votes)


@dataclass
class Outcome:
    """One rule's result; `budget` and `spent` are ints when whole, else exact Fractions."""

    rule: str
    budget: Fraction
    selected: list
    spent: Fraction
    votes: dict
    score: dict
    ties: list = field(default_factory=list)
    details: dict = field(default_factory=dict)

    def to_json(self):
        """A JSON-ready dict (exact amounts as int, or decimal strings when not whole)."""
        return {
            "rule": self.rule,
            "budget": money_json(self.budget),
            "spent": money_json(self.spent),
            "selected": list(self.selected),
            "votes": dict(self.votes),
            "score": dict(self.score),
            "ties": list(self.ties),
            "details": dict(self.details),
        }
