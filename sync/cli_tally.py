"""`urne tally`: run a rule on a Pabulib file."""

import json
import os

import click

from .cli_common import domain_errors
from .errors import TallyError
from .tally import RULES, read_pb, run_rule
from .tally.model import gc_paused, money_json


def tally_pb(pb, rule, workers=1):
    """Run `rule` on a parsed .pb (its META threshold feeds greedy-threshold and greedy-no-skip)."""
    threshold = pb.meta.get("min_project_score_threshold")
    if threshold is not None and rule in ("greedy-threshold", "greedy-no-skip"):
        try:
            threshold = int(threshold)
        except ValueError as exc:
            raise TallyError(
                "bad threshold",
                where="META min_project_score_threshold",
                expected="an integer",
                got=threshold,
            ) from exc
    else:
        threshold = None
    if rule == "greedy-threshold" and threshold is None:
        threshold = 0
    return run_rule(
        rule,
        pb.project_list(),
        pb.budget,
        pb.ballots,
        ballot_type=pb.ballot_type,
        threshold=threshold,
        workers=workers,
    )


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--rule",
    type=click.Choice(RULES),
    default=None,
    help="Tally rule (default: the file's META rule).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@domain_errors
def tally(file, rule, as_json):
    """Run a tally rule on a Pabulib .pb file.

    Example: urne tally Poland_Swiecie_2023.pb --rule equalshares/add1 --json
    """
    # The parse and the rule's setup build hundreds of thousands of tuples and no cycle:
    # collections would only rescan them (a third of the setup on Warszawa's files).
    with gc_paused():
        pb = read_pb(file)
        rule = rule or pb.meta.get("rule")
        if rule not in RULES:
            raise TallyError("no usable rule", where="--rule", expected="/".join(RULES), got=rule)
        # A command of its own: the Equal Shares completions may use every core.
        outcome = tally_pb(pb, rule, workers=os.cpu_count() or 1)
    if as_json:
        click.echo(json.dumps(outcome.to_json(), ensure_ascii=False, sort_keys=True))
        return
    rows = {p["project_id"]: p for p in pb.projects}
    click.echo(
        f"{file}\nrule {rule}: spent {money_json(outcome.spent)} of {money_json(outcome.budget)}"
    )
    click.echo(f"{'#':>3}  {'project':<16} {'cost':>12} {'votes':>7} {'score':>8}  name")
    for i, pid in enumerate(outcome.selected, 1):
        p = rows[pid]
        cost = money_json(p["cost"])
        click.echo(
            f"{i:>3}  {pid:<16} {cost!s:>12} {outcome.votes[pid]:>7} {outcome.score[pid]:>8}  {p.get('name', '')[:50]}"
        )
    for tie in outcome.ties:
        click.echo(f"tie: {', '.join(tie['tied'])} (decided by project id order)")
