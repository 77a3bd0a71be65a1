"""Tally rules for participatory budgets: pure functions over one section's ballots.

The central calls one function per section and rule:

    from sync.tally import run_rule
    outcome = run_rule(
        "equalshares/add1",              # a Pabulib META `rule` name, see RULES
        projects,                        # [{"id", "cost", "canton"?, "category"?}, ...]
        budget,                          # int (or Decimal/Fraction/decimal string), never float
        ballots,                         # selections as Urne stores them for this section:
                                         #   approval/knapsack: [id, ...]; cumulative: {id: points};
                                         #   ranked: [id, ...] in rank order (k, k-1, ..., 1 points)
        ballot_type="approval",          # approval | knapsack | cumulative | ranked
        threshold=None,                  # minimum score for greedy-threshold (and greedy-no-skip)
        min_per_canton=False,            # at least one funded project per canton
        reserved=(),                     # [{"category": c, "amount": a}, ...] reserved envelopes
    )
    outcome.selected   # ids in the order funded
    outcome.spent, outcome.budget, outcome.votes ({id: ballots}), outcome.score ({id: points})
    outcome.ties       # every tie the project-id order decided
    outcome.to_json()  # JSON-ready (whole amounts as int, others as exact decimal strings)

`run_section(section, rule, selections)` does the same from an election Section. Pabulib files:
`read_pb`, `parse_pb`, `dumps_pb`, `write_pb`, `pb_to_source` (sync/tally/pabulib.py). Errors are
TallyError (inputs) and PabulibError (files). See docs/tally.md for the exact algorithms.
"""

from .model import BALLOT_TYPES, RULES, Outcome
from .pabulib import PbFile, dumps_pb, parse_pb, pb_to_source, read_pb, write_pb


def __getattr__(name):
    # The rules import numpy (about 0.1 s): loaded on first use, so that commands needing only
    # the vocabulary (the verifier, election sources) start without it.
    if name in ("run_rule", "run_section"):
        from . import rules

        return getattr(rules, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BALLOT_TYPES",
    "RULES",
    "Outcome",
    "PbFile",
    "dumps_pb",
    "parse_pb",
    "pb_to_source",
    "read_pb",
    "run_rule",
    "run_section",
    "write_pb",
]
