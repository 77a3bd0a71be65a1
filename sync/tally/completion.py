"""Equal Shares and its completions: pabutools' add1, and Wieliczka's add1 with comparison."""

from fractions import Fraction

from .affine import Columns, affine_run
from .greedy import greedy
from .mes import MesData, mes_run

# add1 skips repeated runs (sync/tally/affine.py) once PLAIN_RUNS plain runs have not sufficed,
# on elections of at most JUMP_SIZE (ballot entries x candidates): few voters, many steps.
JUMP_SIZE = 20_000
PLAIN_RUNS = 256
# An affine run costs 2 to 15 plain ones (demo 2, Assen 3, Swiecie 14): after AFFINE_TRIAL of
# them, go on only while they skip AFFINE_GAIN steps each on average.
AFFINE_TRIAL, AFFINE_GAIN = 8, 16
# The plain loop's runs after its first SERIAL_RUNS are computed in blocks of CHUNK, from the
# largest budget down (each run's prices bound the next one's), and with workers > 1 several
# blocks at a time (each run depends only on its budget): forking costs what a few runs do.
SERIAL_RUNS = 8
CHUNK = 4


def _exhaustive(data, selected_cols, spent):
    # No supported project left out would still fit the real budget.
    chosen = set(selected_cols)
    return all(j in chosen or spent + data.cost[j] > data.budget for j in data.eligible)


def equal_shares(instance, profile, *, completion=None, candidates=None, workers=1):
    """MES, or its 'add1' / 'add1-comparison' completion: (ids, spent, ties, details).

    `workers` > 1: the completion's runs on that many processes (forked; a command line, not a
    threaded server). The outcome is the same: only the order in which runs are computed changes.
    """
    # add1 (pabutools): start at budget/n per voter; while not exhaustive, add one currency unit
    # per voter and rerun; stop at the first exhaustive outcome, or keep the previous one when
    # the next would overspend. add1-comparison goes on past exhaustive outcomes.
    data = MesData(instance, profile, candidates)
    if profile.n == 0 or not data.ids:
        return [], Fraction(0), [], {"per_voter": None, "iterations": 0}
    t0 = Fraction(data.budget, profile.n)
    if completion is not None and len(data.mult) * len(data.eligible) <= JUMP_SIZE:
        return _add1_jumping(data, t0, completion, plain=PLAIN_RUNS)
    return _add1_reference(data, t0, completion, workers)


def _result(data, sel, spent, ties, t, iterations):
    details = {"per_voter": Fraction(t, data.scale), "iterations": iterations}
    return sel, Fraction(spent, data.scale), ties, details


def _add1_reference(data, t, completion, workers=1):
    """The plain loop: one MES run per step of one currency unit (the rule's definition).

    Every step is run; `_runs_after` only orders the work (blocks, floors, processes).
    """
    sel, spent, ties, trace = mes_run(data, t)
    iterations = 1

    def done():
        return completion != "add1-comparison" and _exhaustive(data, trace, spent)

    if completion is None or done():
        return _result(data, sel, spent, ties, t, iterations)
    runs = _runs_after(data, t, trace, workers)
    try:
        for t_next, nxt in runs:
            iterations += 1
            if nxt[1] > data.budget:
                break
            t = t_next
            sel, spent, ties, trace = nxt
            if len(trace) == len(data.eligible) or done():
                break  # every candidate funded (more money cannot change anything), or done
    finally:
        runs.close()
    return _result(data, sel, spent, ties, t, iterations)


def _runs_after(data, t, trace, workers):
    """(t + k x step, mes_run there) for k = 1, 2, ... in increasing order.

    The first SERIAL_RUNS one by one (most elections stop there); then blocks of CHUNK runs,
    each computed from its largest budget down (`_block`), `workers` blocks at a time.
    """
    step = data.scale  # one currency unit in scaled units
    for _ in range(SERIAL_RUNS):
        t += step
        out = mes_run(data, t, hints=trace)
        trace = out[3]
        yield t, out
    if workers <= 1:
        while True:
            block = _block(data, t, step, trace)
            yield from block
            t, trace = block[-1][0], block[-1][1][3]
    # Imported here: most tallies never get this far, and multiprocessing costs 20 ms to load.
    import multiprocessing

    # Our own forked workers, one pipe each, rather than multiprocessing.Pool: Pool.terminate()
    # with tasks still queued can hang for good (its task thread stayed blocked on the input
    # queue's lock; CI and about one test run in fifteen here). Here the parent shares no lock
    # with a worker, and stopping is a SIGKILL. fork: a worker inherits the MesData instead of
    # receiving it pickled.
    ctx = multiprocessing.get_context("fork")
    procs, conns = [], []
    try:
        for _ in range(workers):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(theirs, data), daemon=True)
            proc.start()
            theirs.close()
            procs.append(proc)
            conns.append(mine)
        # Block i goes to worker i % workers, two per worker in flight: each has its next block
        # queued when it finishes one, and its results come back in the order it was sent them.
        sent = done = 0
        while True:
            while sent < done + 2 * workers:
                conns[sent % workers].send((t, step, trace))
                t += CHUNK * step
                sent += 1
            block = _received(conns[done % workers], procs[done % workers])
            done += 1
            yield from block
            trace = block[-1][1][3]
    finally:
        # The consumer stopped: runs still being computed are not needed.
        for proc in procs:
            proc.kill()
        for proc, conn in zip(procs, conns, strict=True):
            proc.join()
            conn.close()


def _serve(conn, data):
    """A forked worker: compute each block it is sent, send back ("ok", block) or the error."""
    import signal

    # Ctrl-C reaches the whole process group: the parent stops and kills the workers, which
    # need not print a traceback each.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            t, step, hints = conn.recv()
        except EOFError:  # the parent is gone
            return
        try:
            reply = ("ok", _block(data, t, step, hints))
        except Exception as exc:  # noqa: BLE001 - handed to the parent, which raises it
            reply = ("error", exc)
        conn.send(reply)


def _received(conn, proc):
    """The next reply on `conn`: its block, or the worker's exception raised here."""
    try:
        kind, value = conn.recv()
    except EOFError:
        raise RuntimeError(f"tally worker {proc.pid} died (exit code {proc.exitcode})") from None
    if kind == "error":
        raise value
    return value


def _block(data, t, step, hints):
    """[(t + k x step, mes_run there)] for k = 1..CHUNK, computed from k = CHUNK down.

    Each run's prices are floors for the next, poorer one (mes_run's `above`): fewer projects
    to price, the same outcomes.
    """
    out, above = [], None
    for k in range(CHUNK, 0, -1):
        floors = []
        run = mes_run(data, t + k * step, hints=hints, above=above, record=floors)
        hints, above = run[3], (run[3], floors)
        out.append((t + k * step, run))
    return out[::-1]


def _add1_jumping(data, t, completion, plain=0):
    """The plain loop's outcome, skipping the steps on which the MES run provably repeats."""
    # The first `plain` runs are plain MES runs (real files mostly end there); then affine runs,
    # each giving the range of budgets where it repeats, for as long as they skip enough steps
    # to pay for their cost. `iterations` counts the plain loop's runs: details are identical.
    step = data.scale
    cols, affine, skipped = None, 0, 0
    bound = (None, True)
    sel, spent, ties, trace = mes_run(data, t)
    iterations = 1
    while completion == "add1-comparison" or not _exhaustive(data, trace, spent):
        # Steps t + k x step inside the bound give this very run: accepted, never exhaustive
        # (add1) and never over budget, so the plain loop walks through them unchanged.
        k = _steps_within(t, step, bound)
        t += k * step
        iterations += k
        skipped += k
        worth = affine < AFFINE_TRIAL or skipped >= AFFINE_GAIN * affine
        if iterations < plain or not worth:
            nxt = mes_run(data, t + step, hints=trace)
            nxt_bound = (None, True)
        else:
            cols = cols or Columns(data)
            nxt_trace, nxt_spent, nxt_bound = affine_run(data, cols, t + step)
            nxt = (None, nxt_spent, None, nxt_trace)
            affine += 1
        iterations += 1
        if nxt[1] > data.budget:
            break
        t += step
        sel, spent, ties, trace = nxt
        bound = nxt_bound
        if len(trace) == len(data.eligible):
            break  # every candidate funded: more money cannot change anything
    if sel is None:  # the outcome and its ties (which may differ inside a bound): a real run
        sel, spent2, ties, trace2 = mes_run(data, t, hints=trace)
        if trace2 != trace or spent2 != spent:  # pragma: no cover - would be a bug: be loud
            raise AssertionError("add1 jump: affine run and MES run disagree")
    return _result(data, sel, spent, ties, t, iterations)


def _steps_within(t, step, bound):
    """How many whole steps beyond t stay inside the bound (sup, included?)."""
    sup, closed = bound
    if sup is None:
        return 0  # no bound known (or none at all): take the plain step
    k = (sup - t) // step
    if not closed and t + k * step == sup:
        k -= 1
    return max(int(k), 0)


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


def add1_comparison(instance, profile, workers=1):
    """Wieliczka 2023: MES add1 to the last fitting budget, then greedy wins only if more prefer it."""
    sel, spent, ties, details = equal_shares(
        instance, profile, completion="add1-comparison", workers=workers
    )
    g_sel, g_spent, g_ties = greedy(instance, profile)
    pm, pg = compare(profile, sel, g_sel)
    details = dict(details, prefers_mes=pm, prefers_greedy=pg, chosen="equalshares")
    if pg > pm:
        details["chosen"] = "greedy"
        return g_sel, g_spent, g_ties, details
    return sel, spent, ties, details
