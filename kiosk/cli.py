"""`urne kiosk` commands and `urne demo`: each calls one library function."""

import os
from pathlib import Path

import click

from sync.cli_common import domain_errors, home_folder, utc_now

DEMO_HOME = Path("instance") / "demo"


@click.group()
def kiosk():
    """Set up and run a voting station (in URNE_HOME).

    Example: urne kiosk --help
    """


@kiosk.command("init")
@click.option("--election", "election_file", required=True, type=click.Path(dir_okay=False))
@click.option("--device", required=True, help="Device id: a-z, 0-9 and -, e.g. stand-pau-1.")
@domain_errors
def init_command(election_file, device):
    """Make URNE_HOME a kiosk: keys, enrollment request, agent PIN (shown once).

    Example: urne kiosk init --election election.urne --device stand-pau-1
    """
    from .setup import init_kiosk

    made = init_kiosk(home_folder(), election_file, device)
    click.echo(f"Kiosk folder: {made.home}")
    click.echo(f"Enrollment request (take it to the authority): {made.request}")
    click.echo(f"Agent PIN (shown only now, write it down): {made.pin}")


@kiosk.command("install-certificate")
@click.argument("certificate", type=click.Path(dir_okay=False, exists=True))
@domain_errors
def install_certificate_command(certificate):
    """Install the device certificate the authority made from this kiosk's request.

    Example: urne kiosk install-certificate stand-pau-1.cert
    """
    from .setup import install_certificate

    cert = install_certificate(home_folder(), Path(certificate).read_bytes())
    click.echo(f"Installed: device {cert.device}, epoch {cert.epoch}, key {cert.fingerprint}")


def _print_status(st):
    session = st.session
    lines = [
        ("Device", f"{st.device} (epoch {st.epoch}), key {st.fingerprint}"),
        ("Election", st.election),
        (
            "Ballots",
            f"{st.ballots_today} today, {st.ballots_total} in total, {st.voids_total} voided",
        ),
        ("Session", f"open since {session.opened}" if session.open else "closed"),
        ("Chain", f"{st.records} records, head {st.head or '-'}"),
        (
            "Last export",
            f"{st.last_export['at']} ({st.last_export['path']})" if st.last_export else "never",
        ),
        ("Free disk", f"{st.free_disk // (1024 * 1024)} MiB"),
        ("Clock", st.clock),
    ]
    for name, value in lines:
        click.echo(f"{name + ':':13}{value}")


@kiosk.command("set-pin")
@domain_errors
def set_pin_command():
    """Give the kiosk a new agent PIN (shown once) and lift any PIN lockout.

    Example: urne kiosk set-pin
    """
    from .setup import reset_pin

    pin = reset_pin(home_folder())
    click.echo(f"New agent PIN (shown only now, write it down): {pin}")


@kiosk.command("status")
@domain_errors
def status_command():
    """Show the stand's counts, device, session, chain head, last export and clock.

    Example: urne kiosk status
    """
    from .status import kiosk_status

    _print_status(kiosk_status(home_folder(), now=utc_now()))


@kiosk.command("check")
@domain_errors
def check_command():
    """Check the database and re-verify the whole chain; exit 1 when something is wrong.

    Example: urne kiosk check
    """
    from .status import check_kiosk

    report = check_kiosk(home_folder(), now=utc_now())
    click.echo(
        f"OK: {report.records} records verified ({report.ballots} ballots, "
        f"{report.voids} voided), head {report.head or '-'}"
    )


@kiosk.command("export")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False))
@click.option("--all", "whole", is_flag=True, help="Everything, not only what is new.")
@domain_errors
def export_command(out, whole):
    """Write a verified bundle (and a database copy) to a folder or drive; print its path.

    Example: urne kiosk export --out /media/agent/USB
    """
    from .status import export_kiosk

    path, count, head = export_kiosk(home_folder(), out, whole=whole, now=utc_now())
    click.echo(path)
    click.echo(f"{count} records, head {head}", err=True)


@kiosk.command("drives")
def drives_command():
    """List the removable drives (and URNE_EXPORT_DIR) an export can go to.

    Example: urne kiosk drives
    """
    from .usb import removable_drives

    found = removable_drives(configured=os.environ.get("URNE_EXPORT_DIR"))
    if not found:
        click.echo("No removable drive found (plug one in, or set URNE_EXPORT_DIR).")
    for drive in found:
        state = "writable" if drive.writable else "NOT writable"
        click.echo(f"{drive.path}\t{drive.free_bytes // (1024 * 1024)} MiB free\t{state}")


@kiosk.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@domain_errors
def serve_command(host, port):
    """Serve the kiosk with waitress (listens on 127.0.0.1 unless told otherwise).

    Example: urne kiosk serve --port 5000
    """
    serve(home_folder(), host, port)


def listen(host, port):
    """A socket bound and listening on host:port, or a ClickException saying the port is taken."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _name, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({exc.strerror}): is a kiosk already running there? "
            "Stop it, or pick another port with --port"
        ) from exc
    return sock


def serve(home, host, port, *, sock=None):
    """Run the kiosk app from `home` under waitress until interrupted (on `sock` if bound)."""
    import waitress

    from app import create_app

    sock = sock or listen(host, port)
    try:
        try:
            app = create_app({"HOME": str(home), "ROLE": "kiosk"})
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Serving on http://{host}:{port}/ (Ctrl+C to stop)")
        waitress.serve(app, sockets=[sock], threads=4, ident="urne")
    finally:
        sock.close()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up and print, then exit.")
@domain_errors
def demo(host, port, no_serve):
    """Start a kiosk on the demo election (URNE_HOME or ./instance/demo), enrolled, session open.

    Running it again reuses the folder, its ballots and its agent PIN
    (`urne kiosk set-pin` makes a new one).

    Example: urne demo
    """
    from .setup import setup_demo

    # The port first: a second demo on a busy port must change nothing, not even the PIN.
    sock = None if no_serve else listen(host, port)
    try:
        home = Path(os.environ.get("URNE_HOME") or DEMO_HOME).resolve()
        made = setup_demo(home, now=utc_now())
        click.echo(f"Demo kiosk folder: {home} ({'new' if made.created else 'reused'})")
        if made.pin:
            click.echo(f"Agent PIN: {made.pin}")
        else:
            click.echo(
                "Agent PIN unchanged: use the one printed the first time, or run "
                f"`URNE_HOME={home} urne kiosk set-pin` to set a new one."
            )
        click.echo(f"Open http://{host}:{port}/ in a browser.")
    except BaseException:
        if sock is not None:
            sock.close()
        raise
    if sock is not None:
        serve(home, host, port, sock=sock)
