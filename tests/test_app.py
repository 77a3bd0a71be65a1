"""The app factory, the command line as a whole, and repository-wide promises."""

import ast
import re
from pathlib import Path

import click
import pytest

import app as app_module

ROOT = Path(__file__).resolve().parent.parent


def test_create_app_refuses_an_unset_folder(tmp_path):
    with pytest.raises(RuntimeError, match="neither a kiosk nor a central"):
        app_module.create_app({"HOME": str(tmp_path)})


def test_config_layers_env_over_instance_file(tmp_path, monkeypatch):
    monkeypatch.setenv("URNE_IDLE_SECONDS", "42")
    flask_app = app_module._create_cli_app()
    assert flask_app.config["IDLE_SECONDS"] == 42


def _walk(command, path=()):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _walk(sub, (*path, name))


def test_every_command_has_help_ending_with_an_example():
    own = [
        (path, cmd)
        for path, cmd in _walk(app_module.cli)
        if path and path[0] not in {"run", "shell", "routes"}
    ]
    assert len(own) > 10
    missing = []
    for path, cmd in own:
        text = (cmd.help or "").strip()
        if not re.search(r"^\s*Example: urne ", text.splitlines()[-1] if text else ""):
            missing.append(" ".join(path))
    assert missing == [], f"commands whose help does not end with 'Example: urne ...': {missing}"


def test_trust_core_never_imports_flask():
    offenders = []
    for path in (ROOT / "sync").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in {"flask", "flask_wtf", "flask_babel", "kiosk", "central"}:
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```\n(.*?)```", readme, re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 2
    assert "urne demo" in commands[0]
    test_command = commands[1].split("&&")[-1].strip()
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_auditor_commands_run_without_flask():
    import subprocess
    import sys

    # sys.modules[name] = None makes any import of that name fail, as if Flask were not installed.
    code = (
        "import sys, runpy\n"
        "for name in ('flask', 'flask_wtf', 'flask_babel', 'werkzeug'):\n"
        "    sys.modules[name] = None\n"
        "sys.argv = ['sync', 'audit', 'verify', '--help']\n"
        "runpy.run_module('sync', run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "--election" in result.stdout
