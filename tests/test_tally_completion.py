"""add1 with skipped steps, blocks and processes against the plain +1 loop: same outcome, ties and
details, always."""

import random
from fractions import Fraction

import pytest
from fixtures_tally import IDS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.tally import read_pb
from sync.tally.affine import Columns, affine_run
from sync.tally.completion import (
    JUMP_SIZE,
    _add1_jumping,
    _add1_reference,
    _exhaustive,
    _result,
    _steps_within,
    equal_shares,
)
from sync.tally.mes import MesData, mes_run
from sync.tally.model import make_instance, make_profile

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COMPLETIONS = ("add1", "add1-comparison")
ADD1_FILES = (  # META rule equalshares/add1 or add1-comparison, and the big Warszawa 2020 two
    "Netherlands_Assen_2024.pb",
    "Poland_Swiecie_2023.pb",
    "Poland_Wieliczka_2023_Green_Budget.pb",
    "Poland_Warszawa_2020_Praga-Poludnie.pb",
    "Poland_Warszawa_2020_Ursynow.pb",
)


@st.composite
def small_electorates(draw, kind="approval", max_voters=30, unit=(1, 20, 100)):
    """(projects, budget, ballots, kind): few voters, costs far above one unit, many ties."""
    ids = draw(st.lists(st.sampled_from(IDS), min_size=2, max_size=7, unique=True))
    u = draw(st.sampled_from(unit))  # coarse costs make equal prices (ties) likely
    costs = draw(st.lists(st.integers(1, 12), min_size=len(ids), max_size=len(ids)))
    projects = [{"id": p, "cost": c * u} for p, c in zip(ids, costs, strict=True)]
    # A budget near the total cost, and small ballots (each project's supporters have little
    # money at budget / n): the per-voter budget has to climb a long way to exhaust it.
    total = sum(costs) * u
    budget = draw(st.integers(max(costs) * u, total))
    n = draw(st.integers(2, max_voters))
    popular = ids[:1] * 6 + ids[:2] * 3 + ids  # skewed support: the others have few supporters
    ballots = []
    for _ in range(n):
        chosen = draw(st.lists(st.sampled_from(popular), min_size=1, max_size=3, unique=True))
        if kind == "cumulative":
            ballots.append({p: draw(st.integers(1, 3)) for p in chosen})
        else:
            ballots.append(sorted(chosen))
    return projects, budget, ballots, kind


@st.composite
def many_step_electorates(draw, kind="approval"):
    """Like small_electorates, shaped from a seed: median 50 +1 steps, a third over 100."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    n = rng.randint(2, 30)
    ids = rng.sample(IDS, rng.randint(2, 7))
    u = rng.choice((10, 50, 100))
    projects = [{"id": p, "cost": rng.randint(1, 12) * u} for p in ids]
    ballots = [{} for _ in range(n)]
    for p in ids:  # each project backed by a few voters only: they need a large budget each
        for i in rng.sample(range(n), rng.randint(1, max(1, n // 3))):
            ballots[i][p] = rng.randint(1, 3) if kind == "cumulative" else 1
    if kind == "approval":
        ballots = [sorted(b) for b in ballots]
    total = sum(p["cost"] for p in projects)
    budget = rng.randint(max(p["cost"] for p in projects), total)
    return projects, budget, ballots, kind


def _data(projects, budget, ballots, kind):
    inst = make_instance(projects, budget)
    prof = make_profile(inst, ballots, kind)
    data = MesData(inst, prof)
    return data, Fraction(data.budget, prof.n)


def plain_loop(data, t, completion):
    """The rule as defined: one bare MES run per step of one unit, in order, nothing skipped."""
    sel, spent, ties, trace = mes_run(data, t)
    iterations = 1
    while completion == "add1-comparison" or not _exhaustive(data, trace, spent):
        nxt = mes_run(data, t + data.scale)
        iterations += 1
        if nxt[1] > data.budget:
            break
        t += data.scale
        sel, spent, ties, trace = nxt
        if len(trace) == len(data.eligible):
            break
    return _result(data, sel, spent, ties, t, iterations)


def _same_as_reference(data, t0, completion):
    ref = plain_loop(data, t0, completion)
    assert _add1_reference(data, t0, completion) == ref  # hints, blocks and floors
    assert _add1_jumping(data, t0, completion) == ref  # jumping from the first run
    assert _add1_jumping(data, t0, completion, plain=3) == ref  # after a few plain runs
    return ref


@SETTINGS
@given(small_electorates() | many_step_electorates(), st.sampled_from(COMPLETIONS))
def test_jumping_equals_the_plain_loop_approval(election, completion):
    data, t0 = _data(*election)
    _same_as_reference(data, t0, completion)


@SETTINGS
@given(
    small_electorates("cumulative") | many_step_electorates("cumulative"),
    st.sampled_from(COMPLETIONS),
)
def test_jumping_equals_the_plain_loop_cumulative(election, completion):
    data, t0 = _data(*election)
    _same_as_reference(data, t0, completion)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    small_electorates(unit=(1, 7)), st.integers(0, 400), st.sampled_from(("approval", "cumulative"))
)
def test_every_step_inside_the_bound_repeats_the_run(election, offset, kind):
    """The claim itself: mes_run at each whole step within the bound gives the same run."""
    projects, budget, ballots, _ = election
    if kind == "cumulative":
        ballots = [{p: 1 + (i + len(p)) % 3 for p in b} for i, b in enumerate(ballots)]
    data, t0 = _data(projects, budget, ballots, kind)
    t = t0 + offset
    trace, spent, (sup, closed) = affine_run(data, Columns(data), t)
    sel, spent2, _, trace2 = mes_run(data, t)
    assert (trace, spent) == (trace2, spent2)
    for i in range(1, min(_steps_within(t, 1, (sup, closed)), 60) + 1):
        assert mes_run(data, t + i)[3:] == (trace,), (t, i, sup)
        assert mes_run(data, t + i)[1] == spent


def test_bound_by_hand():
    """Two voters; P (100) by both, Q (300) by voter 1: Q stays unaffordable while b < 300."""
    projects = [{"id": "P", "cost": 100}, {"id": "Q", "cost": 300}]
    data, t0 = _data(projects, 300, [["P", "Q"], ["P"]], "approval")
    assert t0 == 150
    trace, spent, bound = affine_run(data, Columns(data), t0)
    assert [data.ids[j] for j in trace] == ["P"] and spent == 100
    assert bound == (300, False)  # Q needs 300 of voter 1, who has b - 50 after P
    assert _steps_within(t0, 1, bound) == 149
    assert _steps_within(Fraction(299), 1, bound) == 0
    assert _steps_within(Fraction(150), 1, (Fraction(300), True)) == 150
    assert _steps_within(Fraction(150), 1, (None, True)) == 0


def test_a_tie_goes_to_the_first_id_in_the_affine_run_too():
    projects = [{"id": "B", "cost": 60}, {"id": "A", "cost": 60}]
    data, t0 = _data(projects, 180, [["A"], ["B"], ["A", "B"]], "approval")
    trace, _, _ = affine_run(data, Columns(data), t0)
    assert [data.ids[j] for j in trace] == ["A", "B"]
    ref = _add1_reference(data, t0, "add1")
    assert _add1_jumping(data, t0, "add1") == ref


def test_demo_size_election_is_the_same_and_takes_thousands_of_steps():
    """55 voters, 1,500,000 budget: thousands of +1 steps, identical outcome with jumps."""
    import random

    rng = random.Random(5)
    ids = [f"D{i:02d}" for i in range(1, 10)]
    projects = [{"id": p, "cost": rng.randrange(80, 320) * 1000} for p in ids]
    ballots = [sorted(rng.sample(ids, rng.randint(1, 4))) for _ in range(55)]
    inst = make_instance(projects, 1_500_000)
    prof = make_profile(inst, ballots, "approval")
    data = MesData(inst, prof)
    t0 = Fraction(data.budget, prof.n)
    ref = _add1_reference(data, t0, "add1")
    assert ref[3]["iterations"] > 1000
    assert equal_shares(inst, prof, completion="add1") == ref


@pytest.mark.parametrize(
    "name",
    [
        ADD1_FILES[0],
        pytest.param(ADD1_FILES[1], marks=pytest.mark.slow),
        pytest.param(ADD1_FILES[2], marks=pytest.mark.slow),
    ],
)
def test_jumping_equals_the_plain_loop_on_files(pabulib_dir, name):
    """Real add1 files, jumping forced from the first run (the default waits PLAIN_RUNS runs)."""
    pb = read_pb(pabulib_dir / name)
    data, t0 = _data(pb.project_list(), pb.budget, pb.ballots, pb.ballot_type)
    for completion in COMPLETIONS:
        ref = _add1_reference(data, t0, completion)
        assert _add1_jumping(data, t0, completion) == ref, completion
        assert plain_loop(data, t0, completion) == ref, completion


@pytest.mark.slow
@pytest.mark.parametrize("name", ADD1_FILES[3:])
def test_big_warszawa_files_keep_the_plain_loop_and_the_bound_holds(pabulib_dir, name):
    """15,000 voters: the default is the plain loop; an affine run (8 s here) is still exact."""
    pb = read_pb(pabulib_dir / name)
    inst = make_instance(pb.project_list(), pb.budget)
    prof = make_profile(inst, pb.ballots, pb.ballot_type)
    data = MesData(inst, prof)
    t0 = Fraction(data.budget, prof.n)
    assert len(data.mult) * len(data.eligible) > JUMP_SIZE
    ref = plain_loop(data, t0, "add1")  # 128 and 179 bare runs
    assert _add1_reference(data, t0, "add1") == ref  # blocks and floors
    assert equal_shares(inst, prof, completion="add1") == ref
    trace, spent, bound = affine_run(data, Columns(data), t0)
    assert mes_run(data, t0)[1:4:2] == (spent, trace)
    for i in range(1, min(_steps_within(t0, data.scale, bound), 5) + 1):
        assert mes_run(data, t0 + i * data.scale)[3] == trace


@SETTINGS
@given(
    small_electorates() | many_step_electorates() | many_step_electorates("cumulative"),
    st.lists(st.integers(1, 80), min_size=1, max_size=4, unique=True),
)
def test_a_richer_runs_prices_are_floors_for_a_poorer_run(election, gaps):
    """mes_run given the chained records of runs at larger budgets: the bare run, exactly."""
    data, t0 = _data(*election)
    above = None
    for gap in sorted(gaps, reverse=True) + [0]:  # the richest first, as in a block
        t = t0 + gap * data.scale
        floors = []
        run = mes_run(data, t, above=above, record=floors)
        assert run == mes_run(data, t), gap
        above = (run[3], floors)


def test_floors_from_a_poorer_run_would_be_wrong():
    """The direction matters: a poorer run's prices are no floors, and used as such change a run."""
    costs = {"a": 10, "b": 10, "c": 110, "d": 100}
    projects = [{"id": p, "cost": c} for p, c in costs.items()]
    ballots = [["a", "c"], ["a", "c"], ["b", "c"], ["a", "b", "d"], ["a", "b", "c", "d"]]
    data, t0 = _data(projects, 136, ballots, "approval")
    floors = []
    poorer = mes_run(data, t0, record=floors)
    richer = t0 + 3 * data.scale
    assert mes_run(data, richer)[0] == ["a", "c", "b"]
    assert mes_run(data, richer, above=(poorer[3], floors))[0] == ["a", "b"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    many_step_electorates(),
    st.sampled_from(COMPLETIONS),
    st.integers(0, 3),
    st.integers(1, 5),
)
def test_blocks_and_processes_give_the_plain_loops_outcome(election, completion, serial, chunk):
    from sync.tally import completion as module

    data, t0 = _data(*election)
    ref = plain_loop(data, t0, completion)
    before = module.SERIAL_RUNS, module.CHUNK
    module.SERIAL_RUNS, module.CHUNK = serial, chunk  # reach the blocks and forked runs early
    try:
        for workers in (1, 2, 3):
            assert _add1_reference(data, t0, completion, workers=workers) == ref, workers
    finally:
        module.SERIAL_RUNS, module.CHUNK = before


def test_a_real_file_on_two_processes_gives_the_same_outcome(pabulib_dir):
    pb = read_pb(pabulib_dir / "Poland_Swiecie_2023.pb")  # 227 runs of the plain loop
    data, t0 = _data(pb.project_list(), pb.budget, pb.ballots, pb.ballot_type)
    for completion in COMPLETIONS:
        ref = _add1_reference(data, t0, completion)
        assert ref[3]["iterations"] > 100
        assert _add1_reference(data, t0, completion, workers=2) == ref, completion


def test_workers_are_gone_when_the_loop_stops_and_their_errors_reach_the_caller(
    pabulib_dir, monkeypatch
):
    import multiprocessing

    from sync.tally import completion as module

    pb = read_pb(pabulib_dir / "Poland_Swiecie_2023.pb")
    data, t0 = _data(pb.project_list(), pb.budget, pb.ballots, pb.ballot_type)
    # The loop stops while blocks are still queued on every worker: none may outlive it.
    assert _add1_reference(data, t0, "add1", workers=3) == _add1_reference(data, t0, "add1")
    assert multiprocessing.active_children() == []

    real_block = module._block

    def failing_block(data, t, step, hints):
        if t > t0 + 40 * step:
            raise ArithmeticError(f"block at {t}")
        return real_block(data, t, step, hints)

    monkeypatch.setattr(module, "_block", failing_block)  # the forked workers inherit it
    with pytest.raises(ArithmeticError, match="block at"):
        _add1_reference(data, t0, "add1", workers=2)
    assert multiprocessing.active_children() == []
