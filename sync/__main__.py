"""`python -m sync`: the auditor's commands without the web app (no Flask is imported)."""

import click

from .cli_audit import audit
from .cli_election import election
from .cli_tally import tally


@click.group()
def main():
    """Urne's trust core: verify bundles and published results, inspect packages, run tallies.

    Example: python -m sync audit verify --election election.urne published/
    """


main.add_command(audit)
main.add_command(election)
main.add_command(tally)

if __name__ == "__main__":
    main(prog_name="python -m sync")
