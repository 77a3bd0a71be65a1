"""Method of Equal Shares with cost utilities: floats propose, exact integers decide.

Each voter's utility for a project is (score x cost); a voter pays at most q x score for a
project, where q is the project's price per score point. Every budget is kept exactly as
T/D - sum(Q_j x w_j)/D over the funded projects j the voter supports (or 0 once exhausted),
so an exact sum over any set of voters only needs integer counts (numpy) and a few big-int
products. Float copies of the budgets find the candidate quickly; any decision whose float
margin is below REL is re-decided exactly (see docs/tally.md, "Exactness").
"""

from fractions import Fraction
from itertools import chain, repeat
from math import gcd
from operator import itemgetter

import numpy as np

try:
    # np.count_nonzero is a Python wrapper (array-function dispatch, ~1 us) around this C
    # function; add1 calls it ~180,000 times on Praga-Poludnie, 0.2 s of its 1.4 s.
    from numpy._core.multiarray import count_nonzero as _count_nonzero
except ImportError:  # pragma: no cover - another numpy layout
    _count_nonzero = np.count_nonzero

# Float values carry relative errors near 1e-13 here; any margin below REL is re-checked exactly.
REL = 1e-7
INF = float("inf")


class MesData:
    """Ballot groups as arrays, built once per (instance, profile) and reused across runs."""

    def __init__(self, instance, profile, candidates=None):
        self.scale = instance.scale
        self.budget = int(instance.budget * self.scale)
        self.n = profile.n
        ids = [p for p in instance.ids if candidates is None or p in candidates]
        self.ids = ids
        col = {p: j for j, p in enumerate(ids)}
        self.cost = [int(instance.cost[p] * self.scale) for p in ids]
        groups = profile.groups
        ballots = [items for items, _ in groups]
        if len(groups) > 0.6 * profile.n:  # few identical ballots: one entry per voter is faster
            ballots = list(chain.from_iterable(map(repeat, ballots, (m for _, m in groups))))
            self.mult = np.ones(len(ballots), dtype=np.int64)
        else:
            self.mult = np.array([m for _, m in groups], dtype=np.int64)
        # Every (group, project, points) entry at once, in C (map, not generator expressions);
        # a stable sort by column keeps each column's groups in increasing order.
        sizes = np.fromiter(map(len, ballots), dtype=np.int64, count=len(ballots))
        entries = list(chain.from_iterable(ballots))
        n = len(entries)
        projects = map(itemgetter(0), entries)
        cols = np.fromiter(map(col.get, projects, repeat(-1)), dtype=np.int64, count=n)
        points = np.fromiter(map(itemgetter(1), entries), dtype=np.int64, count=n)
        group_of = np.repeat(np.arange(len(ballots), dtype=np.int64), sizes)
        keep = cols >= 0
        cols, points, group_of = cols[keep], points[keep], group_of[keep]
        order = np.argsort(cols, kind="stable")
        bounds = np.cumsum(np.bincount(cols, minlength=len(ids)))[:-1]
        rows = np.split(group_of[order], bounds)
        pts = np.split(points[order], bounds)
        # Per column: supporter groups and, as floats, their weight, count and weight x count.
        self.cols = []
        for j in range(len(ids)):
            idx, w = rows[j], pts[j]
            m = self.mult[idx]
            self.cols.append(
                (idx, w.astype(np.float64), m.astype(np.float64), (w * m).astype(np.float64))
            )
        self.unit = [bool(np.all(c[1] == 1)) for c in self.cols]
        self.plain = [
            u and bool(np.all(c[2] == 1)) for u, c in zip(self.unit, self.cols, strict=True)
        ]
        self.total_w = [int(round(c[3].sum())) for c in self.cols]
        self._weight = None
        # Candidates: supported projects of positive cost; free supported ones are funded first.
        self.free = sorted(ids[j] for j in range(len(ids)) if self.total_w[j] and not self.cost[j])
        self.eligible = [j for j in range(len(ids)) if self.total_w[j] and self.cost[j]]

    @property
    def weight(self):
        """Dense (entries x columns) integer points, built on the first exact check only."""
        if self._weight is None:
            weight = np.zeros((len(self.mult), len(self.ids)), dtype=np.int64)
            for j, (idx, w, _, _) in enumerate(self.cols):
                weight[idx, j] = w.astype(np.int64)
            self._weight = weight
            self._mweight = weight * self.mult[:, None]
        return self._weight

    @property
    def mweight(self):
        """Points x count of each entry, for exact sums over many voters."""
        self.weight  # noqa: B018 - builds both matrices
        return self._mweight


class _Run:
    """One MES run at an exact per-voter budget t (scaled units); exact state kept lazily."""

    # Floats drive the search; the exact state (D, T, Q) is brought up to date from the recorded
    # trace (poor groups and rich weight of each funded project) only when a decision is close.

    def __init__(self, data, t):
        self.d = data
        self.D, self.T = t.denominator, t.numerator
        self.Q = []  # numerators of the funded prices, over D
        self.F = []  # funded columns whose exact price is known
        self.pending = []  # (column, live poor groups, rich weight) not yet priced exactly
        self.bf = np.full(len(data.mult), float(t))
        self.exh = np.zeros(len(data.mult), dtype=bool)
        # Exhausted supporters stay in the arrays (budget 0): dropping them costs more than it saves.
        self.live = data.cols
        self.qprev = [0.0] * len(data.cols)  # last float price of each column in this run

    # -- exact helpers ---------------------------------------------------------------------
    def _sync(self):
        """Price every pending funded project exactly, in funding order."""
        for j, poor, rich_w in self.pending:
            N = self.d.cost[j] * self.D - self._paid(poor)
            self._push(j, N, rich_w)
        self.pending = []

    def _push(self, j, N, rich_w):
        self.T *= rich_w
        self.Q = [q * rich_w for q in self.Q]
        self.D *= rich_w
        self.Q.append(N)
        self.F.append(j)
        if self.D.bit_length() > 512:
            g = gcd(self.D, self.T, *self.Q)
            if g > 1:
                self.D //= g
                self.T //= g
                self.Q = [q // g for q in self.Q]

    def _paid(self, live):
        """D x (sum of budgets) over `live` groups (none exhausted), exactly."""
        if not len(live):
            return 0
        total = int(self.d.mult[live].sum()) * self.T
        if self.F:
            s = self.d.mweight[np.ix_(live, self.F)].sum(axis=0)
            total -= sum(q * int(c) for q, c in zip(self.Q, s, strict=True) if c)
        return total

    def _budget(self, g):
        """D x budget of one voter of group g, exactly."""
        if self.exh[g]:
            return 0
        w = self.d.weight[g, self.F] if self.F else ()
        return self.T - sum(q * int(c) for q, c in zip(self.Q, w, strict=True) if c)

    def exact_affordable(self, j):
        self._sync()
        idx = self.live[j][0]
        return self._paid(idx[~self.exh[idx]]) >= self.d.cost[j] * self.D

    def exact_price(self, j, ev):
        """Exact (rho, N, rich_w, poor mask) of column j from its float evaluation `ev`."""
        d = self.d
        q, key, poor, border, rich_w, any_poor = ev
        idx, w, _, mw = self.live[j]
        cost = d.cost[j]
        if not border and not any_poor:
            return Fraction(1, rich_w), None, rich_w, None
        self._sync()
        band = REL * q
        near = np.flatnonzero(np.abs(key - q) <= band)
        poor = (key < q) if poor is None else poor.copy()
        for _ in range(len(near) + 2):
            rich_w = int(mw[~poor].sum())
            if rich_w == 0:  # everyone pays all: the price is the largest budget per point
                poor[int(np.argmax(key))] = False
                continue
            N = cost * self.D - self._paid(idx[poor & ~self.exh[idx]])
            changed = False
            for b in near:
                bn = self._budget(int(idx[b])) * rich_w
                if bn < N * int(w[b]) and not poor[b]:
                    poor[b], changed = True, True
                elif bn > N * int(w[b]) and poor[b]:
                    poor[b], changed = False, True
            if not changed:
                return Fraction(N, self.D * rich_w * cost), N, rich_w, poor
        raise AssertionError("exact price did not settle")  # pragma: no cover

    # -- float proposal --------------------------------------------------------------------
    def evaluate(self, j):
        """Float proposal (q, key, poor mask or None, border?, rich weight, any poor?) or None."""
        # None means the supporters cannot pay; a None mask means `key < q` (no border: exact).
        d = self.d
        idx, w, m, mw = self.live[j]
        if not len(idx):  # nobody supports it
            return None
        b = self.bf[idx]
        cost = d.cost[j]
        if d.plain[j]:
            return self._evaluate_plain(j, b, cost)
        mb = b * m
        money = float(mb.sum())
        if money < cost * (1 - REL) or (money <= cost * (1 + REL) and not self.exact_affordable(j)):
            return None
        key = b if d.unit[j] else b / w
        total = float(mw.sum())
        q = cost / total
        if self.qprev[j] <= q and float(key.min()) > q * (1 + REL):
            return q, key, None, False, round(total), False
        q = max(q, self.qprev[j] * (1 - 16 * REL))
        poor_w = -1.0
        while True:
            poor = key < q
            pw = float(mw @ poor)
            if pw == poor_w:
                break
            poor_w = pw
            if pw >= total:  # everyone poor: the price is the largest budget per point
                q = float(key.max())
                poor = key < q
                pw = float(mw @ poor)
                break
            q = (cost - float(mb @ poor)) / (total - pw)
        border = bool(np.min(np.abs(key - q)) <= REL * q)
        self.qprev[j] = q
        return q, key, poor, border, round(total - pw), True

    def _evaluate_plain(self, j, b, cost):
        # One voter per entry, one point each: grow the poor set until the price settles.
        count = len(b)
        q = cost / count
        # Once someone is poor for a column they stay poor (budgets fall, prices rise).
        if self.qprev[j] <= q and float(b.min()) > q * (1 + REL):
            return q, b, None, False, count, False
        money = float(b.sum())
        if money < cost * (1 - REL) or (money <= cost * (1 + REL) and not self.exact_affordable(j)):
            return None
        # Within a run prices only rise, so the last price (a hair lower) is a safe start.
        q = max(q, self.qprev[j] * (1 - 16 * REL))
        k = -1
        while True:
            poor = b < q
            k2 = int(_count_nonzero(poor))
            if k2 == k:
                break
            k = k2
            if k >= count:  # everyone poor: the price is the largest budget
                q = float(b.max())
                poor = b < q
                k = int(_count_nonzero(poor))
                break
            q = (cost - float(np.dot(b, poor))) / (count - k)
        border = _count_nonzero(b < q * (1 + REL)) != _count_nonzero(b <= q * (1 - REL))
        self.qprev[j] = q
        return q, b, poor, bool(border), count - k, k > 0

    # -- funding ---------------------------------------------------------------------------
    def fund(self, j, ev, exact):
        """Apply the funding of column j: poor supporters are exhausted, the rich pay q x score."""
        d = self.d
        q, key, poor, border, rich_w, any_poor = ev
        idx, w = self.live[j][0], self.live[j][1]
        if exact is not None and exact[1] is not None:
            _, N, rich_w, poor = exact
            self._push(j, N, rich_w)
            q = N / self.D
        elif exact is not None:  # nobody poor: the exact price cost / rich_w can wait
            rich_w, poor = exact[2], np.zeros(len(idx), dtype=bool)
            q = d.cost[j] / rich_w
        if poor is None:
            poor = key < q if any_poor else np.zeros(len(idx), dtype=bool)
        newly = idx[poor]
        if exact is None or exact[1] is None:
            self.pending.append((j, newly[~self.exh[newly]], rich_w))
        # Everyone pays q x score, then the poor (who paid all they had) are set to exactly 0.
        self.bf[idx] -= q if d.unit[j] else q * w
        self.bf[newly] = 0.0
        self.exh[newly] = True


def mes_run(data, t, hints=(), above=None, record=None):
    """One MES run at per-voter budget `t` (scaled units): (ids, cost, ties, funded columns).

    `hints` (the columns a previous run funded) are tried first in each round. `above`: the
    (funded columns, `record`) of a run at a larger budget, whose prices bound this run's from
    below for as long as both funded the same projects. `record`: a list that receives, per
    round, this run's lower bound of every candidate's price. A faster search, never another
    result.
    """
    run = _Run(data, t)
    remaining = {j: 1.0 / data.total_w[j] for j in data.eligible}
    selected = list(data.free)
    spent = 0
    ties, trace = [], []
    # With more money per voter, every voter keeps at least as much after each funding (the
    # same projects funded in the same order), so every price is at most the same: the richer
    # run's price of a project, each round, is a floor for this run's (docs/tally.md). A
    # project missing from the richer run's round could not be paid for there: nor here.
    above_trace, floors = above or ((), ())
    while remaining:
        rnd = len(trace)
        floor = floors[rnd] if rnd < len(floors) and trace == above_trace[:rnd] else None
        order = sorted(remaining, key=remaining.__getitem__)
        if rnd < len(hints) and hints[rnd] in remaining:
            order.remove(hints[rnd])
            order.insert(0, hints[rnd])
        best, found = float("inf"), []
        for pos, j in enumerate(order):
            if pos and remaining[j] > best * (1 + 4 * REL):
                break
            if pos and floor is not None:
                low = floor.get(j, INF)
                if low > best * (1 + 4 * REL):
                    remaining[j] = low
                    continue
            ev = run.evaluate(j)
            if ev is None:
                del remaining[j]
                continue
            rho = ev[0] / data.cost[j]
            remaining[j] = rho
            found.append((rho, j, ev))
            best = min(best, rho)
        if not found:
            break
        if record is not None:
            record.append(dict(remaining))
        near = [(j, ev) for rho, j, ev in found if rho <= best * (1 + 4 * REL)]
        if len(near) == 1 and not near[0][1][3]:
            j, ev = near[0]
            exact = None
        else:
            priced = sorted(
                ((run.exact_price(j, ev), data.ids[j], j, ev) for j, ev in near),
                key=lambda p: (p[0][0], p[1]),
            )
            low = priced[0][0][0]
            tied = [p for p in priced if p[0][0] == low]
            exact, pid, j, ev = tied[0]
            if len(tied) > 1:
                ties.append(
                    {
                        "round": rnd + 1,
                        "tied": [p[1] for p in tied],
                        "chosen": pid,
                        "by": "project id order",
                    }
                )
        run.fund(j, ev, exact)
        del remaining[j]
        selected.append(data.ids[j])
        trace.append(j)
        spent += data.cost[j]
    return selected, spent, ties, trace
