"""`urne audit` commands."""

import json
import sys
from pathlib import Path

import click

from .audit import audit as run_audit
from .audit import expected_records
from .audit_published import is_published
from .cli_common import domain_errors
from .election import read_package_file
from .enroll import read_revocations

OWN_FILES = ("election.urne", "revocations.urne")  # an audit folder's own signed documents


@click.group()
def audit():
    """Verify bundles and results independently of the central server.

    Example: urne audit --help
    """


def _print_report(report, election):
    ok_bundles = sum(b.ok for b in report.bundles)
    click.echo(f"Election {report.election}")
    click.echo(f"Authority key {election.fingerprint} (check it against the published one)")
    click.echo(f"Bundles: {len(report.bundles)} checked, {ok_bundles} verified")
    for b in report.bundles:
        if b.ok:
            click.echo(
                f"  ok    {b.path}  ({b.device} epoch {b.epoch}, records {b.first}-{b.last})"
            )
        else:
            click.echo(f"  FAIL  {b.path}\n        {b.error_class}: {b.error}")
    click.echo("Chains:")
    for c in report.chains:
        ranges = ", ".join(f"{a}-{b}" for a, b in c.ranges)
        status = "ok" if c.ok else "FAIL"
        click.echo(
            f"  {status:5} {c.device} epoch {c.epoch}: records {ranges} ({c.records}), "
            f"ballots {c.ballots}, voids {c.voids}, sessions {c.sessions}"
        )
        click.echo(f"        head {c.head or '-'}")
        for a, b in c.gaps:
            click.echo(f"        gap: records {a}-{b} missing")
        for fork in c.forks:
            click.echo(f"        fork: record {fork['seq']} differs in {fork['bundle']}")
        for error in c.errors:
            click.echo(f"        {error}")
    for path in report.skipped:
        click.echo(f"Skipped (not a bundle): {path}")
    for p in report.published:
        click.echo(f"Audit folder {p.folder}:")
        if p.signer:
            click.echo(f"  central signing key {p.signer} (check it against the announced one)")
        if p.ok:
            click.echo(
                f"  ok    tally recomputed, identical to tally.json (sha256 {p.tally_sha256})"
            )
        else:
            click.echo(f"  FAIL  tally\n        {p.error_class}: {p.error}")
    if not report.bundles:
        click.echo("No bundle found.")
    click.echo("RESULT: everything verifies" if report.ok else "RESULT: NOT VERIFIED")


def _folder_revocations(paths):
    """The revocation list of an audit folder among paths, or None."""
    for path in paths:
        if is_published(path) and (path / "revocations.urne").exists():
            return path / "revocations.urne"
    return None


def _folder_own(path, paths):
    """Whether a skipped file is an audit folder's own package or revocation list (not noise)."""
    path = Path(path)
    return path.name in OWN_FILES and any(
        is_published(p) and path.parent.resolve() == Path(p).resolve() for p in paths
    )


@audit.command("verify")
@click.option(
    "--election",
    "election_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
)
@click.option(
    "--revocations",
    "revocations_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Processes checking signatures (default: all cores).",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@domain_errors
def verify(election_path, revocations_path, as_json, workers, paths):
    """Verify bundles (*.urne files, or folders searched for them): exit 0 only if all verify.

    A folder written by `urne sync publish --out` is an audit folder: besides its bundles, its
    signed groups and decisions are replayed and the tally recomputed, which must be identical
    to its tally.json (its revocations.urne is used unless --revocations is given).

    Example: urne audit verify --election election.urne audit-folder/
    """
    # An unreadable package or revocation list exits 1 (via domain_errors): nothing verifies.
    election = read_package_file(election_path)
    revocations = None
    if revocations_path is None:
        revocations_path = _folder_revocations(paths)
    if revocations_path:
        revocations = read_revocations(
            revocations_path.read_bytes(), election, where=str(revocations_path)
        )
    bar = None
    if sys.stderr.isatty() and not as_json:
        bar = click.progressbar(length=expected_records(paths), label="Verifying", file=sys.stderr)
        bar.__enter__()
    try:
        report = run_audit(
            election,
            paths,
            revocations=revocations,
            workers=workers,
            progress=bar.update if bar else None,
        )
    finally:
        if bar:
            bar.__exit__(None, None, None)
    report.skipped = [p for p in report.skipped if not _folder_own(p, paths)]
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_report(report, election)
    sys.exit(0 if report.ok else 1)
