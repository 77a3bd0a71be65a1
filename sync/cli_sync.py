"""`urne sync` commands: import, tally, duplicates, publish, purge."""

import sys
from pathlib import Path

import click

from .cli_common import domain_errors, home_folder, utc_now


def _open():
    from .central_home import open_central

    return open_central(home_folder())


@click.group()
def sync():
    """Import bundles into the central, tally, review duplicates, publish, purge.

    Every command works on the central folder named by URNE_HOME.

    Example: urne sync import /media/usb
    """


@sync.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Processes that verify and write the files (default: all cores).",
)
@domain_errors
def import_command(paths, workers):
    """Verify and import bundles (files, or folders searched for *.urne).

    Each bundle is verified completely before anything is written; a refused bundle does not
    stop the others. Exit status 1 when any bundle was refused.

    Example: urne sync import /media/usb/urne
    """
    from .importer import bundle_files, import_paths

    with _open() as central:
        files = bundle_files(paths)
        if sys.stderr.isatty():
            with click.progressbar(length=len(files), label="Importing", file=sys.stderr) as bar:
                outcomes = import_paths(
                    central, files, now=utc_now(), workers=workers, progress=lambda _: bar.update(1)
                )
        else:
            outcomes = import_paths(central, files, now=utc_now(), workers=workers)
    refused = 0
    for o in outcomes:
        if o.error is not None:
            refused += 1
            click.echo(f"REFUSED  {o.path}: {o.error}")
        else:
            r = o.result
            click.echo(
                f"{r.status:<9}{o.path}: {r.device} epoch {r.epoch} seq {r.first}-{r.last}, "
                f"{r.added} new, {r.present} already present, chain {r.state}"
            )
    added = sum(o.result.added for o in outcomes if o.result)
    click.echo(f"{len(outcomes)} bundles, {added} new records, {refused} refused")
    if refused:
        sys.exit(1)


@sync.command("import-online")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Map an identity field to a CSV column (repeatable).",
)
@click.option("--id-column", default="id", show_default=True)
@click.option("--time-column", default="time", show_default=True)
@click.option(
    "--cancel-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("online-to-cancel.csv"),
    show_default=True,
)
@domain_errors
def import_online_command(csv_file, columns, id_column, time_column, cancel_out):
    """Tag the online platform's voters, apply the policy across channels, list votes to cancel.

    Example: urne sync import-online votes.csv --column last_name=Nom --column first_name=Prenom --column birth_date=Naissance --column postcode=CP
    """
    from .online import import_online, write_cancel_list

    mapping = {}
    for item in columns:
        field, sep, column = item.partition("=")
        if not sep or not field or not column:
            raise click.BadParameter(f"expected FIELD=COLUMN, got {item!r}", param_hint="--column")
        mapping[field] = column
    with _open() as central:
        report = import_online(
            central, csv_file.read_bytes(), columns=mapping, id_column=id_column,
            time_column=time_column, now=utc_now(),
        )  # fmt: skip
    write_cancel_list(cancel_out, report.cancel)
    click.echo(
        f"{report.rows} online voters ({report.added} new); {report.groups} duplicate groups, "
        f"{report.held} held for review; {len(report.cancel)} online votes to cancel -> {cancel_out}"
    )


@sync.command("tally")
@click.option(
    "--json", "as_json", is_flag=True, help="Canonical JSON (byte-identical for the same ballots)."
)
@domain_errors
def tally_command(as_json):
    """Tally the accepted ballots (duplicates resolved by the election's policy and decisions).

    Example: urne sync tally --json
    """
    from .publish import central_result
    from .results import tally_json
    from .tally.model import gc_paused

    # Millions of acyclic tuples (records, tags, ballots) at 1,000,000 ballots: the cyclic
    # collector would only rescan them, several seconds in all.
    with gc_paused(), _open() as central:
        result = central_result(central, now=utc_now())
    if as_json:
        sys.stdout.buffer.write(tally_json(result))
        return
    b = result["ballots"]
    click.echo(
        f"Ballots: {b['counted']} counted, {b['held']} held for review, {b['voided']} voided, "
        f"{b['excluded']} set aside as duplicates (policy {result['policy']})"
    )
    for s in result["sections"]:
        click.echo(f"\n{s['id']} ({s['rule']}): {s['spent']} of {s['budget']} spent")
        for pid in s["selected"]:
            click.echo(f"  funded  {pid}  {s['votes'][pid]} votes")


@sync.command("groups")
@domain_errors
def groups_command():
    """List the duplicate-voter groups still held for an organiser's decision.

    After `urne sync purge` the stored signed groups are listed (no tag is opened).

    Example: urne sync groups
    """
    from .groups import review

    with _open() as central:
        body, held_ids, _ = review(central, now=utc_now())
    held = set(held_ids)
    for g in body["groups"]:
        if g["id"] in held:
            click.echo(f"{g['id']}  {' '.join(g['members'])}")
    click.echo(f"{len(held)} held of {len(body['groups'])} groups")


@sync.command("adjudicate")
@click.argument("group")
@click.option(
    "--keep", default=None, help="The ballot id (or online:ID) that counts; omit to count none."
)
@click.option("--reason", required=True)
@click.option("--by", required=True, help="The organiser deciding.")
@domain_errors
def adjudicate_command(group, keep, reason, by):
    """Record an organiser's signed decision on a held duplicate group.

    Example: urne sync adjudicate 3f2a... --keep 9c1e... --reason "paper ballot first" --by "M. Etcheverry"
    """
    from .groups import adjudicate, signing_key

    with _open() as central:
        adjudicate(
            central.store, central.election, signing_key(central.home), group,
            [keep] if keep else [], reason=reason, by=by, now=utc_now(),
        )  # fmt: skip
    click.echo(f"Decision recorded for group {group}")


@sync.command("publish")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--public",
    is_flag=True,
    help="Only the result, counts per stand and channel, and receipt codes.",
)
@domain_errors
def publish_command(out, public):
    """Write the audit folder (designated auditors only) or, with --public, the public part.

    Example: urne sync publish --out /srv/audit-2026
    """
    from .groups import held_message
    from .publish import publish, publish_public

    with _open() as central:
        result = (publish_public if public else publish)(central, out, now=utc_now())
    click.echo(f"Published {'public part' if public else 'audit folder'} to {out}")
    if result["groups"]["held"]:
        click.echo(held_message(len(result["groups"]["held"]), result["ballots"]["held"]))


@sync.command("install-revocations")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@domain_errors
def install_revocations_command(file):
    """Install the authority's signed revocation list: revoked devices stop counting.

    Example: urne sync install-revocations revocations.urne
    """
    from .central_home import install_revocations

    install_revocations(home_folder(), file.read_bytes())
    click.echo(f"Revocation list installed from {file}")


@sync.command("purge")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--force", is_flag=True, help="Purge even while duplicate groups are held (with a warning)."
)
@domain_errors
def purge_command(yes, force):
    """Destroy what could identify a voter (tag-opening key, opened tags, online list).

    Run it once the result is final: afterwards no bundle can be imported. The tally and the
    audit folder still verify. It refuses while duplicate groups are held, unless --force.

    Example: urne sync purge --yes
    """
    from .publish import purge

    if not yes:
        click.confirm("Destroy the tag-opening key and every opened voter tag?", abort=True)
    with _open() as central:
        removed = purge(
            central,
            now=utc_now(),
            force=force,
            warn=lambda m: click.echo(f"Warning: {m}", err=True),
        )
    for item in removed:
        click.echo(f"removed: {item}")
