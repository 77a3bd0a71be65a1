"""`urne election` commands."""

import click


@click.group()
def election():
    """Build and inspect signed election packages.

    Example: urne election --help
    """
