"""`urne central` commands: set a central folder up and serve it."""

import json
from pathlib import Path

import click

from sync.cli_common import domain_errors, home_folder


@click.group()
def central():
    """Set up and run the central server (in URNE_HOME).

    Example: urne central init --election election.urne --key central.key
    """


@central.command("init")
@click.option(
    "--election",
    "election_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The central's X25519 key (opens voter tags).",
)
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the organiser password from a file instead of a prompt.",
)
@domain_errors
def init_command(election_file, key_file, password_file):
    """Make URNE_HOME a central: keys (0600), session secret, organiser password (hashed), database.

    Example: urne central init --election election.urne --key central.key
    """
    from sync.central_home import init_central

    if password_file:
        password = password_file.read_text(encoding="utf-8").strip()
    else:
        password = click.prompt("Organiser password", hide_input=True, confirmation_prompt=True)
    home = init_central(home_folder(), election_file, key_file, password)
    click.echo(f"Central ready in {home}")
    click.echo("Next: `urne sync import BUNDLES...` for USB exports, `urne central serve` for the")
    click.echo('organiser pages and the kiosks\' "Synchroniser" button (same URNE_HOME).')


@central.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def serve_command(host, port, threads):
    """Serve the central (push endpoint, organiser pages, results) with waitress.

    Example: urne central serve --host 0.0.0.0 --port 8000
    """
    import waitress

    from app import create_app

    try:
        app = create_app({"HOME": str(home_folder()), "ROLE": "central"})
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Serving the central on http://{host}:{port}/ (Ctrl+C to stop)")
    waitress.serve(app, host=host, port=port, threads=threads, ident="urne")


@click.command()
@click.option("--kiosks", type=click.IntRange(1, 500), default=3, show_default=True)
@click.option("--voters", type=click.IntRange(1, 10**7), default=200, show_default=True)
@click.option("--duplicates", type=click.FloatRange(0, 1), default=0.02, show_default=True)
@click.option(
    "--paper",
    type=click.FloatRange(0, 1),
    default=0.1,
    show_default=True,
    help="Share of paper ballots.",
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@domain_errors
def simulate(kiosks, voters, duplicates, paper, seed, out):
    """Simulate a whole budget vote through the real kiosk code, ready for the central.

    Writes OUT/election.urne, OUT/kiosks/, OUT/bundles/, OUT/central (ready for
    `URNE_HOME=OUT/central urne sync import OUT/bundles`) and OUT/summary.json.

    Example: urne simulate --kiosks 3 --voters 500 --duplicates 0.02 --out /tmp/sim
    """
    from .simulate import simulate as run

    summary = run(out, kiosks=kiosks, voters=voters, duplicates=duplicates, paper=paper, seed=seed)
    click.echo(json.dumps(summary, indent=2, sort_keys=True))
