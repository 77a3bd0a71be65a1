"""One MES run plus the range of per-voter budgets on which it provably repeats (for add1).

Within a run every voter's budget is affine in the per-voter budget b: it starts at b, the poor
supporters of a funded project pay all they have, and the rich pay q x points where q is itself
affine in b (cost minus the poor's money, over the rich weight). So the run at b repeats exactly
at every b' >= b for which each comparison that decided something keeps its sign:
- each project dropped as unaffordable stays unaffordable (supporters' money < cost);
- each funded project's poor supporters stay poor and its rich stay rich (so its price, and
  every budget after it, keep their affine form);
- each rival k of a round stays at a price no lower than the winner's (strictly when k's id comes
  first). At the price q' = rho x cost(k), sum of min(b_i, q' w_i) <= cost(k) gives price(k) >= q'
  whenever k's money exceeds its cost; any fixed split of k's supporters into "pays b_i" and
  "pays q' w_i" bounds that sum from above by an affine function, so one comparison suffices.
Each comparison is `alpha x b + beta >= 0` (or > 0) with integers alpha, beta: the run repeats for
b' up to the smallest root of those with alpha < 0. Everything is exact integer arithmetic: a
budget is (A x b + C) / D with one common denominator D.
"""

from fractions import Fraction
from math import gcd, lcm


class Columns:
    """Per candidate column: its supporters [(entry, points, count)] and the lcm of its points."""

    def __init__(self, data):
        mult = [int(m) for m in data.mult]
        self.n = len(mult)
        self.sup = {}
        self.lcm = {}
        for j in data.eligible:
            idx, w = data.cols[j][0], data.cols[j][1]
            entries = [(int(g), int(x), mult[g]) for g, x in zip(idx, w, strict=True)]
            self.sup[j] = entries
            self.lcm[j] = lcm(*(x for _, x, _ in entries))


class _Bound:
    """The sup (num/den, included?) of the b >= t = tn/td where every recorded comparison holds."""

    def __init__(self, tn, td):
        self.tn, self.td = tn, td
        self.num, self.den, self.closed = None, 1, True

    def _cap(self, num, den, closed):
        if self.num is None or num * self.den < self.num * den:
            self.num, self.den, self.closed = num, den, closed
        elif num * self.den == self.num * den:
            self.closed = self.closed and closed

    def need(self, alpha, beta, strict=False):
        """Record that alpha x b + beta >= 0 (> 0 if strict) must keep holding for b >= t."""
        value = alpha * self.tn + beta * self.td
        if value < 0 or (strict and value == 0):  # cannot happen; if it did, never jump
            self._cap(self.tn, self.td, True)
        elif alpha < 0:
            self._cap(beta, -alpha, not strict)

    def result(self):
        if self.num is None:
            return None, True
        return Fraction(self.num, self.den), self.closed


def affine_run(data, cols, t):
    """MES at per-voter budget t: (funded columns in order, spent, (sup or None, included?))."""
    tn, td = t.numerator, t.denominator
    n = cols.n
    A, C, D = [1] * n, [0] * n, 1  # budget of entry g: (A[g] x b + C[g]) / D
    bound = _Bound(tn, td)
    remaining = list(data.eligible)
    trace, spent = [], 0
    while remaining:
        E = D * td  # value of entry g at t: V[g] / E
        V = [a * tn + c * td for a, c in zip(A, C, strict=True)]
        best, rivals = None, []
        for j in list(remaining):
            cost, sj = data.cost[j], cols.sup[j]
            ma = sum(m * A[g] for g, _, m in sj)
            mc = sum(m * C[g] for g, _, m in sj)
            if ma * tn + mc * td < cost * E:  # the supporters cannot pay: dropped for good
                bound.need(-ma, cost * D - mc, strict=True)
                remaining.remove(j)
                continue
            L = cols.lcm[j]
            keyed = sorted(sj, key=lambda e, L=L: V[e[0]] * (L // e[1]))
            paid, rich_w, k = 0, data.total_w[j], 0
            for g, w, m in keyed:  # the poor: V/E < q w, q = (cost E - paid) / (E rich_w)
                if V[g] * rich_w >= (cost * E - paid) * w:
                    break
                paid += m * V[g]
                rich_w -= m * w
                k += 1
            # rho = q / cost as num / den, compared by cross-multiplication (no gcd)
            cand = (cost * E - paid, E * rich_w * cost, data.ids[j], j, keyed[:k], rich_w, ma, mc)
            if best is None or _before(cand, best):
                if best is not None:
                    rivals.append(best)
                best = cand
            else:
                rivals.append(cand)
        if best is None:
            break
        _, _, pid, j, poor, rw, _, _ = best
        cost = data.cost[j]
        # q(b) = (QA x b + QC) / (D x rw)
        QA = -sum(m * A[g] for g, _, m in poor)
        QC = cost * D - sum(m * C[g] for g, _, m in poor)
        poor_set = {g for g, _, _ in poor}
        for g, w, _ in cols.sup[j]:  # q w - budget, times D rw: >= 0 when poor, <= 0 when rich
            alpha, beta = QA * w - rw * A[g], QC * w - rw * C[g]
            if g in poor_set:
                bound.need(alpha, beta)
            else:
                bound.need(-alpha, -beta)
        qt = QA * tn + QC * td  # q(t) = qt / (td D rw)
        for _, _, kid, k, _, _, ma, mc in rivals:
            ck = data.cost[k]
            # q'(b) = q(b) ck / cost; split k's supporters at t: pays b_g if b_g < q'(t) w
            sa = sc = wr = 0
            for g, w, m in cols.sup[k]:
                if V[g] * rw * cost < qt * ck * w:
                    sa += m * A[g]
                    sc += m * C[g]
                else:
                    wr += m * w
            # (cost(k) - that upper bound) x D rw cost >= 0
            alpha = -(rw * cost * sa + ck * wr * QA)
            beta = ck * D * rw * cost - (rw * cost * sc + ck * wr * QC)
            if kid < pid:  # k would win a tie: its price must stay strictly above
                bound.need(alpha, beta, strict=True)
            else:
                bound.need(alpha, beta)
                bound.need(ma, mc - ck * D, strict=True)  # money(k) > cost(k)
        for g in range(n):
            A[g] *= rw
            C[g] *= rw
        for g, w, _ in cols.sup[j]:
            if g in poor_set:
                A[g] = C[g] = 0
            else:
                A[g] -= w * QA
                C[g] -= w * QC
        D *= rw
        if D.bit_length() > 256:
            f = gcd(D, *A, *C)
            if f > 1:
                D //= f
                A = [a // f for a in A]
                C = [c // f for c in C]
        remaining.remove(j)
        trace.append(j)
        spent += cost
    return trace, spent, bound.result()


def _before(x, y):
    # Smaller rho first, then the smaller id (string order, as mes_run).
    left, right = x[0] * y[1], y[0] * x[1]
    return left < right or (left == right and x[2] < y[2])
