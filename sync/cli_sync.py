"""`urne sync` commands and `urne simulate`."""

import click


@click.group()
def sync():
    """Import bundles into the central, tally, publish, purge.

    Example: urne sync --help
    """


@click.command()
def simulate():
    """Simulate a whole budget vote.

    Example: urne simulate --kiosks 3 --voters 500 --duplicates 0.02 --out /tmp/sim
    """
