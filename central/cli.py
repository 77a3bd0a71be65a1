"""`urne central` commands."""

import click


@click.group()
def central():
    """Run and set up the central server.

    Example: urne central --help
    """
