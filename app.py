"""Application factory and the `urne` command line (Flask's FlaskGroup plus Urne's groups)."""

import os
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup

DEFAULTS = {
    # Which face this installation shows: "kiosk" (a voting station) or "central".
    "ROLE": None,
    "HOME": None,
    "LANGUAGES": ["fr", "en", "es", "eu", "oc"],
    "IDLE_SECONDS": 90,
    "IDLE_WARNING_SECONDS": 20,
    "VOID_WINDOW_SECONDS": 300,
    "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Strict",
    "WTF_CSRF_TIME_LIMIT": None,
}


def urne_home(app):
    """The folder holding all state of this installation (database, keys, bundles)."""
    return Path(app.config["HOME"] or app.instance_path)


def create_app(test_config=None):
    """Create the Flask app: defaults, instance config.py, URNE_* environment, then test_config."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("URNE")
    if test_config is not None:
        app.config.from_mapping(test_config)
    home = urne_home(app)
    app.config["HOME"] = str(home)

    role = app.config["ROLE"] or _detect_role(home)
    app.config["ROLE"] = role
    if role == "kiosk":
        from kiosk import init_app
    elif role == "central":
        from central import init_app
    else:
        # Fail closed: nothing to serve until the folder is set up.
        raise RuntimeError(
            f"{home} is neither a kiosk nor a central: run `urne kiosk init` or "
            "`urne central init` there first (or set URNE_HOME)."
        )
    init_app(app)
    return app


def _detect_role(home):
    role_file = Path(home) / "role"
    if role_file.exists():
        return role_file.read_text().strip()
    return None


def _create_cli_app():
    # Commands that set a folder up must work before it holds a role.
    try:
        return create_app()
    except RuntimeError:
        app = Flask(__name__, instance_relative_config=True)
        app.config.from_mapping(DEFAULTS)
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("URNE")
        app.config["HOME"] = str(urne_home(app))
        return app


@click.group(cls=FlaskGroup, create_app=_create_cli_app, add_version_option=False)
def cli():
    """Urne: offline, verifiable voting stations for participatory budgets.

    Example: urne demo
    """


def _register():
    from central.cli import central, simulate
    from kiosk.cli import demo, kiosk
    from sync.cli_audit import audit
    from sync.cli_authority import authority
    from sync.cli_election import election
    from sync.cli_sync import sync
    from sync.cli_tally import tally

    for command in (election, authority, audit, tally, sync, simulate, kiosk, demo, central):
        cli.add_command(command)


_register()


def main():
    """Entry point of the `urne` console script."""
    os.environ.setdefault("FLASK_APP", "app:create_app")
    cli(prog_name="urne")
