"""`urne audit` commands."""

import click


@click.group()
def audit():
    """Verify bundles and results independently of the central server.

    Example: urne audit --help
    """
