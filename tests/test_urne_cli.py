"""The `urne` console script: core groups start without Flask, the rest goes through FlaskGroup."""

import subprocess
import sys
from pathlib import Path

import app
import urne_cli

ROOT = Path(__file__).resolve().parent.parent

# Blocks every import of Flask, as if it were not installed, then runs `urne` with argv.
RUN_WITHOUT_FLASK = (
    "import sys\n"
    "for name in ('flask', 'flask_wtf', 'flask_babel', 'werkzeug'):\n"
    "    sys.modules[name] = None\n"
    "sys.argv = ['urne'] + sys.argv[1:]\n"
    "import urne_cli\n"
    "urne_cli.main()\n"
)


def _run(*args, code=RUN_WITHOUT_FLASK):
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_core_groups_are_the_ones_app_cli_registers():
    for name in urne_cli.CORE_GROUPS:
        assert urne_cli._core_group(name) is app.cli.commands[name]
    # Every group defined in sync/ (Flask-free by construction) takes the fast path.
    from_sync = {
        n for n, c in app.cli.commands.items() if c.callback.__module__.startswith("sync.")
    }
    assert from_sync == set(urne_cli.CORE_GROUPS)


def test_core_groups_run_without_flask():
    for name in urne_cli.CORE_GROUPS:
        result = _run(name, "--help")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"Usage: urne {name} "), result.stdout


def test_a_core_command_error_exits_2_without_flask():
    result = _run("audit", "verify")
    assert result.returncode == 2
    assert "Usage: urne audit verify" in result.stderr
    assert "Missing" in result.stderr


def test_other_commands_go_through_flask():
    # With Flask blocked, `urne kiosk` must fail on the import: it is not on the fast path.
    blocked = _run("kiosk", "--help")
    assert blocked.returncode != 0
    assert "flask" in blocked.stderr.lower()
    normal = "import sys\nsys.argv = ['urne'] + sys.argv[1:]\nimport urne_cli\nurne_cli.main()\n"
    for args in (("kiosk", "--help"), ("--help",), ("routes", "--help")):
        result = _run(*args, code=normal)
        assert result.returncode == 0, result.stderr
    top = _run("--help", code=normal).stdout
    for name in (*urne_cli.CORE_GROUPS, "kiosk", "central", "demo", "simulate", "run", "shell"):
        assert f"\n  {name} " in top
