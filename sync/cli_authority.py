"""`urne authority` commands: the organiser's keys, device certificates, revocations."""

import click


@click.group()
def authority():
    """The organiser's authority: keys, device certificates, revocations.

    Example: urne authority --help
    """
