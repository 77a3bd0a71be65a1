"""`urne kiosk` commands and `urne demo`."""

import click


@click.group()
def kiosk():
    """Set up and run a voting station.

    Example: urne kiosk --help
    """


@click.command()
def demo():
    """Start a kiosk on the demo election.

    Example: urne demo
    """
