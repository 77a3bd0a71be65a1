"""`urne authority init / certify / revoke`."""

import random
import stat

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from fixtures_records import MINI_SOURCE

from sync import crypto, enroll
from sync.cli_authority import authority
from sync.election import build_package, read_package


@pytest.fixture
def folder(tmp_path):
    """An authority folder made by `init` (with a passphrase), its election and a kiosk request."""
    (tmp_path / "pass").write_text("tr0ub4dor &3\n")
    result = CliRunner().invoke(
        authority,
        ["init", "--out", str(tmp_path / "auth"), "--passphrase-file", str(tmp_path / "pass")],
    )
    assert result.exit_code == 0, result.output
    key = crypto.load_private_key(tmp_path / "auth" / "authority.key", "tr0ub4dor &3")
    secret = crypto.read_secret(tmp_path / "auth" / "election-secret")
    central = crypto.public_bytes(X25519PrivateKey.generate())
    package = build_package(MINI_SOURCE, authority_key=key, central_public=central, secret=secret)
    (tmp_path / "election.urne").write_bytes(package)
    election = read_package(package)
    enroll.init_device(tmp_path / "kiosk", election, "kiosk-01", rng=random.Random(3))
    return tmp_path, election


def _args(tmp_path, *extra):
    return [
        "--key", str(tmp_path / "auth" / "authority.key"), "--election", str(tmp_path / "election.urne"),
        "--passphrase-file", str(tmp_path / "pass"), *extra,
    ]  # fmt: skip


def test_init_modes(folder):
    tmp_path, _ = folder
    for name in ("authority.key", "election-secret"):
        assert stat.S_IMODE((tmp_path / "auth" / name).stat().st_mode) == 0o600
    result = CliRunner().invoke(authority, ["init", "--out", str(tmp_path / "auth")])
    assert result.exit_code == 1 and "refusing to overwrite" in result.output


def test_certify_assigns_new_epochs(folder):
    tmp_path, election = folder
    request = str(tmp_path / "kiosk" / "enrollment-request.json")
    r1 = CliRunner().invoke(
        authority, ["certify", request, *_args(tmp_path, "--out", str(tmp_path / "c1"))]
    )
    assert r1.exit_code == 0, r1.output
    assert "kiosk-01 epoch 1" in r1.output
    r2 = CliRunner().invoke(
        authority, ["certify", request, *_args(tmp_path, "--out", str(tmp_path / "c2"))]
    )
    assert "kiosk-01 epoch 2" in r2.output
    assert enroll.read_certificate((tmp_path / "c2").read_bytes(), election).epoch == 2
    r3 = CliRunner().invoke(
        authority,
        ["certify", request, *_args(tmp_path, "--out", str(tmp_path / "c3"), "--epoch", "1")],
    )
    assert r3.exit_code == 1 and "epoch already issued" in r3.output
    assert not (tmp_path / "c3").exists()
    enroll.install_certificate(tmp_path / "kiosk", (tmp_path / "c2").read_bytes(), election)


@pytest.mark.parametrize(
    "passphrase, message",
    [("wrong\n", "cannot load private key"), ("", "empty passphrase file")],
    ids=["wrong", "empty"],
)
def test_a_bad_passphrase_file_is_refused_cleanly(folder, passphrase, message):
    tmp_path, _ = folder
    (tmp_path / "pass").write_text(passphrase)
    request = str(tmp_path / "kiosk" / "enrollment-request.json")
    result = CliRunner().invoke(
        authority, ["certify", request, *_args(tmp_path, "--out", str(tmp_path / "c"))]
    )
    assert result.exit_code == 1 and message in result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback


def test_revoke_grows_the_signed_list(folder):
    tmp_path, election = folder
    for device, epoch in (("kiosk-03", "1"), ("kiosk-04", "2")):
        result = CliRunner().invoke(
            authority,
            [
                "revoke",
                *_args(
                    tmp_path,
                    "--device",
                    device,
                    "--epoch",
                    epoch,
                    "--reason",
                    "stolen",
                    "--out",
                    str(tmp_path / "rev.urne"),
                ),
            ],
        )
        assert result.exit_code == 0, result.output
    revs = enroll.read_revocations((tmp_path / "rev.urne").read_bytes(), election)
    assert revs.serial == 2 and set(revs.revoked) == {("kiosk-03", 1), ("kiosk-04", 2)}
    again = CliRunner().invoke(
        authority,
        ["revoke", *_args(tmp_path, "--device", "kiosk-03", "--epoch", "1", "--reason", "x")],
    )
    assert again.exit_code == 1 and "already revoked" in again.output


def test_usage_error_exit_2(folder):
    tmp_path, _ = folder
    assert CliRunner().invoke(authority, ["certify", str(tmp_path / "nope.json")]).exit_code == 2
