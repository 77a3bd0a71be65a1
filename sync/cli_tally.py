"""`urne tally`: run a rule on a Pabulib file."""

import click


@click.command()
def tally():
    """Run a tally rule on a Pabulib .pb file.

    Example: urne tally Poland_Swiecie_2023.pb --rule equalshares/add1 --json
    """
