"""`urne election` commands."""

import json
from pathlib import Path

import click

from .cli_common import domain_errors

_LANGS = click.Choice(["fr", "en", "es", "eu", "oc"])


def _rules(tally):
    official, *others = tally["rules"]
    text = f"{official} (official)" + (f", also {', '.join(others)}" if others else "")
    extras = [f"reserved {r['category']} {r['amount']:,} EUR" for r in tally["reserved"]]
    if tally["min_per_canton"]:
        extras.append("one project per canton")
    if tally["threshold"]:
        extras.append(f"threshold {tally['threshold']}")
    return "; ".join([text, *extras])


@click.group()
def election():
    """Build and inspect signed election packages.

    Example: urne election build election.toml --key authority/authority.key --out election.urne
    """


@election.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "key",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The authority's Ed25519 private key file.",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the signed package.",
)
@click.option(
    "--central-key",
    "central",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The central's X25519 public key (hex or PEM). Default: central.pub next to KEY.",
)
@click.option(
    "--secret",
    "secret",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The 32-byte election secret. Default: election-secret next to KEY.",
)
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read KEY's passphrase from this file instead of asking.",
)
@click.option("--force", is_flag=True, help="Replace an existing package file.")
@domain_errors
def build(source, key, out, central, secret, passphrase_file, force):
    """Validate the TOML SOURCE, sign it and write the election package.

    The package's hash is the election id every ballot record carries: rebuilding after any
    change makes a new election, and kiosks must be enrolled again.

    Example: urne election build election.toml --key authority/authority.key --out election.urne
    """
    from .election_files import build_package_file, key_needs_passphrase

    passphrase = None
    if passphrase_file:
        try:
            passphrase = passphrase_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise click.ClickException(
                f"{passphrase_file}: cannot read passphrase ({exc.strerror})"
            ) from exc
    elif key_needs_passphrase(key):
        passphrase = click.prompt("Passphrase of the authority key", hide_input=True)
    e = build_package_file(
        source,
        key=key,
        out=out,
        central=central,
        secret=secret,
        passphrase=passphrase,
        force=force,
    )
    click.echo(f"Wrote {out}")
    click.echo(f"Election id: {e.id}")
    click.echo(f"Authority key fingerprint: {e.fingerprint}")


@election.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to create the demo in (existing demo files are never overwritten).",
)
@domain_errors
def demo(out):
    """Write a complete demo election: source, authority key, secret, central key, package.

    The demo is the participatory budget of the Pyrénées-Atlantiques in French, English,
    Spanish, Basque and Occitan, open from yesterday to 60 days from now.

    Example: urne election demo --out demo-election
    """
    from .demo import write_demo
    from .election import read_package

    paths = write_demo(out)
    e = read_package(paths.package.read_bytes())
    click.echo(f"Demo election written to {paths.dir}")
    for label, path in (
        ("source", paths.source),
        ("package", paths.package),
        ("authority key", paths.authority_key),
        ("election secret", paths.secret),
        ("central key", paths.central_key),
    ):
        click.echo(f"  {label + ':':17}{path}")
    click.echo(f"Election id: {e.id}")


@election.command()
@click.argument("package", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lang", type=_LANGS, default="fr", show_default=True, help="Language of the texts.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@domain_errors
def show(package, lang, as_json):
    """Verify a package's signature and describe it: id, title, sections, projects, keys.

    Example: urne election show election.urne --lang en
    """
    from .election_files import summary

    info = summary(package, lang)
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2, sort_keys=True))
        return
    w = info["window"]
    click.echo(info["title"])
    click.echo(f"  id:          {info['id']}")
    click.echo(f"  slug:        {info['slug']}")
    click.echo(f"  languages:   {', '.join(info['languages'])}")
    click.echo(f"  window:      {w['opens']} to {w['closes']} ({w['timezone']})")
    click.echo(f"  duplicates:  {info['duplicate_policy']}")
    click.echo(f"  authority:   {info['authority_fingerprint']}")
    click.echo(f"  central:     {info['central_fingerprint']}")
    for s in info["sections"]:
        rule = ", ".join(f"{k}={v}" for k, v in sorted(s["ballot"].items()) if k != "type")
        click.echo(f"\n[{s['id']}] {s['title']}")
        click.echo(
            f"  budget {s['budget']:,} EUR; ballot {s['ballot']['type']} ({rule}); "
            f"tally {_rules(s['tally'])}"
        )
        for p in s["projects"]:
            click.echo(
                f"  {p['id']:>8}  {p['cost']:>10,} EUR  {p['title']}  ({p['canton']}, {p['category']})"
            )


@election.command("from-pb")
@click.argument("pb_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the TOML election source (refuses to overwrite).",
)
@domain_errors
def from_pb(pb_file, out):
    """Start an election source from a Pabulib .pb file: its projects, budget and ballot rule.

    Texts to write (intro, privacy notice, accepted communes) are marked "À compléter".

    Example: urne election from-pb Poland_Swiecie_2023.pb --out swiecie.toml
    """
    import datetime

    from .election_pb import source_from_pb

    if out.exists():
        raise click.ClickException(f"{out}: already exists; choose another --out")
    text = source_from_pb(pb_file, today=datetime.date.today())
    out.write_text(text, encoding="utf-8")
    click.echo(f"Election source written to {out}: edit it, then `urne election build {out}`.")
