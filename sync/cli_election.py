"""`urne election` and `urne authority` commands."""

import click


@click.group()
def election():
    """Build and inspect signed election packages.

    Example: urne election --help
    """


@click.group()
def authority():
    """The organiser's authority: keys, device certificates, revocations.

    Example: urne authority --help
    """
