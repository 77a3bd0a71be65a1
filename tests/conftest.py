"""Shared test set-up: each area's fixtures live in tests/fixtures_<area>.py and load here."""

import os
from pathlib import Path

import pytest

HERE = Path(__file__).parent
PABULIB = (HERE.parent.parent / "shared" / "data" / "pabulib").resolve()

pytest_plugins = sorted(p.stem for p in HERE.glob("fixtures_*.py"))


@pytest.fixture(scope="session")
def pabulib_dir():
    """The folder of real Pabulib files shipped beside the repository (never inside it)."""
    path = Path(os.environ.get("URNE_PABULIB", PABULIB))
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"Pabulib data not found at {path}")
        pytest.skip(f"Pabulib data not found at {path}")
    return path
