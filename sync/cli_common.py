"""What every `urne` command shares: the installation folder, the clock, domain errors."""

import datetime
import os
from functools import wraps
from pathlib import Path

import click

from .errors import UrneError


def home_folder():
    """The installation folder: URNE_HOME, else the Flask instance folder beside app.py."""
    if os.environ.get("URNE_HOME"):
        return Path(os.environ["URNE_HOME"])
    # create_app's default; importing app (and Flask) only when no URNE_HOME is given keeps the
    # auditor's commands, which never need a folder, free of Flask.
    import app

    return Path(app.__file__).resolve().parent / "instance"


def utc_now():
    """The command's clock (commands take real time; library calls take `now=`)."""
    return datetime.datetime.now(datetime.UTC)


def domain_errors(func):
    """Turn Urne's own errors (and unreadable files) into a clean ClickException."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (UrneError, OSError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper
