"""`urne authority` commands: the organiser's keys, device certificates, revocations."""

from pathlib import Path

import click

from . import authority as lib
from .cli_common import domain_errors


@click.group()
def authority():
    """The organiser's authority: keys, device certificates, revocations.

    Example: urne authority --help
    """


@authority.command("init")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@domain_errors
def init(out, passphrase_file):
    """Create the authority key (0600, optionally passphrase-protected) and election secret.

    Example: urne authority init --out ~/authority
    """
    path = lib.init_authority(out, passphrase=lib.read_passphrase(passphrase_file))
    click.echo(f"Authority key written to {path}; keep this folder offline.")


@authority.command("certify")
@click.argument("request", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key", "key_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
@click.option(
    "--election",
    "election_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--epoch", type=click.IntRange(min=1), help="Default: 1 + the highest epoch issued.")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@domain_errors
def certify(request, key_path, election_path, out, epoch, passphrase_file):
    """Turn a kiosk's enrollment request into a device certificate.

    Example: urne authority certify enrollment-request.json --key ~/authority/authority.key --election election.urne --out device.cert
    """
    cert = lib.certify_request(
        request,
        key_path=key_path,
        election_path=election_path,
        out=out,
        epoch=epoch,
        passphrase=lib.read_passphrase(passphrase_file),
    )
    click.echo(f"Certified {cert.device} epoch {cert.epoch} (key {cert.fingerprint}) -> {out}")


@authority.command("revoke")
@click.option(
    "--key", "key_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
@click.option(
    "--election",
    "election_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
)
@click.option("--device", required=True)
@click.option("--epoch", type=click.IntRange(min=1), required=True)
@click.option("--reason", required=True)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Also copy the list here."
)
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@domain_errors
def revoke(key_path, election_path, device, epoch, reason, out, passphrase_file):
    """Add a device epoch to the signed revocation list (revocations.urne).

    Example: urne authority revoke --key ~/authority/authority.key --election election.urne --device kiosk-03 --epoch 1 --reason stolen
    """
    path = lib.revoke(
        key_path=key_path,
        election_path=election_path,
        device=device,
        epoch=epoch,
        reason=reason,
        out=out,
        passphrase=lib.read_passphrase(passphrase_file),
    )
    click.echo(f"Revoked {device} epoch {epoch}; list written to {path}")
