"""`urne audit verify` on an audit folder: bundles verified, groups and decisions replayed, tally
recomputed and compared byte for byte with tally.json."""

import json
import shutil

import pytest
from click.testing import CliRunner
from fixtures_central import NOW, policy_election

from sync import crypto
from sync.audit_published import compare_tally, first_difference, is_published
from sync.bundle import read_unverified_bundle
from sync.central import import_bundle
from sync.cli_audit import audit
from sync.errors import TallyError
from sync.groups import adjudicate, current_groups, signing_key
from sync.publish import central_result, publish

T = "2026-05-16T"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """An audit folder: 2 stands, k1 in two overlapping bundles, one duplicate decided."""
    from fixtures_central import make_central_kit

    root = tmp_path_factory.mktemp("published")
    kit = make_central_kit(root / "kit")
    k1 = kit.chain(
        "k1",
        [
            ("open", f"{T}09:00"),
            ("ballot", "Ana", "kiosk", f"{T}09:00"),
            ("ballot", "Ben", "kiosk", f"{T}09:15"),
            ("ballot", "Cy", "kiosk", f"{T}09:30"),
            ("void", f"{T}09:30"),
        ],
    )
    k2 = kit.chain(
        "k2",
        [
            ("open", f"{T}09:00"),
            ("ballot", "Ana", "paper", f"{T}10:00"),
            ("ballot", "Dan", "kiosk", f"{T}10:15"),
        ],
    )
    with kit.open() as c:
        for path in (kit.bundle("k1", k1, 1, 3), kit.bundle("k1", k1, 3, 5), kit.bundle("k2", k2)):
            import_bundle(c.store, c.election, path, now=NOW)
        central_result(c, now=NOW)
        ana = next(
            g
            for g in current_groups(c.store, c.election)["groups"]
            if k2[1][2]["ballot"] in g["members"]
        )
        adjudicate(
            c.store, c.election, signing_key(c.home), ana["id"], [k2[1][2]["ballot"]],
            reason="paper first", by="org", now=NOW,
        )  # fmt: skip
        publish(c, root / "audit", now=NOW)
    return root / "audit"


@pytest.fixture
def copy(folder, tmp_path):
    """A private copy of the audit folder to alter."""
    return shutil.copytree(folder, tmp_path / "audit")


def _verify(path, *args):
    args = ["verify", "--election", str(path / "election.urne"), "--workers", "1", *args]
    return CliRunner().invoke(audit, [*args, str(path)])


def test_the_audit_folder_verifies_and_its_tally_is_recomputed(folder):
    assert is_published(folder) and not is_published(folder / "bundles")
    result = _verify(folder)
    assert result.exit_code == 0, result.output
    assert "tally recomputed, identical to tally.json" in result.output
    signer = (folder / "central-signing.pub").read_text().strip()
    assert crypto.fingerprint(bytes.fromhex(signer)) in result.output
    report = json.loads(_verify(folder, "--json").output)
    assert report["ok"] and report["published"][0]["ok"]
    assert report["published"][0]["tally_sha256"] == crypto.sha256_hex(
        (folder / "tally.json").read_bytes()
    )


def test_an_altered_tally_says_where_expected_and_got(copy):
    path = copy / "tally.json"
    assert b'"counted":3,' in path.read_bytes()
    path.write_bytes(path.read_bytes().replace(b'"counted":3,', b'"counted":4,'))
    result = _verify(copy)
    assert result.exit_code == 1
    assert "TallyError: " in result.output
    assert "tally.json at $.ballots.counted: the recomputed tally differs" in result.output
    assert "expected 3, got 4" in result.output


def test_a_removed_bundle_is_detected(copy):
    # k2 had one bundle: its whole chain disappears, but its certificate is still there.
    (
        copy / "bundles" / next(p.name for p in (copy / "bundles").iterdir() if _holds(p, b"k2"))
    ).unlink()
    result = _verify(copy)
    assert result.exit_code == 1
    assert "a certified device has no bundle in the folder" in result.output


def test_a_removed_later_bundle_changes_the_tally(copy):
    # k1's second bundle (records 3-5) removed: its chain still links, the tally cannot match.
    later = [
        p for p in (copy / "bundles").iterdir() if read_unverified_bundle(p).manifest["first"] == 3
    ]
    later[0].unlink()
    result = _verify(copy)
    assert result.exit_code == 1, result.output
    assert "ok    k1 epoch 1: records 1-3" in result.output  # the rest verifies...
    assert "the recomputed tally differs" in result.output  # ...but the void is missing
    assert (
        "$.ballots.voided: the recomputed tally differs from the published one: expected 0, got 1"
        in result.output
    )


def test_a_forged_decision_is_refused(copy):
    path = next((copy / "adjudications").iterdir())
    path.write_bytes(path.read_bytes().replace(b'"paper first"', b'"other words"'))
    result = _verify(copy)
    assert result.exit_code == 1
    assert "SignatureError" in result.output and path.name in result.output


def test_a_tally_with_other_bytes_but_the_same_value_is_refused(copy):
    path = copy / "tally.json"
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    result = _verify(copy)
    assert result.exit_code == 1 and "bytes differ" in result.output


def test_another_election_package_in_the_folder_is_refused(copy):
    (copy / "other.urne").write_bytes(policy_election("latest")[1])
    result = CliRunner().invoke(
        audit, ["verify", "--election", str(copy / "other.urne"), "--workers", "1", str(copy)]
    )
    assert result.exit_code == 1 and "another election" in result.output


def test_first_difference_and_compare():
    assert first_difference({"a": [1, {"b": 2}]}, {"a": [1, {"b": 3}]}) == ("$.a[1].b", 2, 3)
    assert first_difference({"a": 1}, {}) == ("$.a", 1, "(absent)")
    assert first_difference([1], [1, 2]) == ("$", [1], [1, 2])
    with pytest.raises(TallyError, match="not canonical"):
        compare_tally({"a": 1}, b'{"a": 1}\n')
    compare_tally({"a": 1}, b'{"a":1}\n')


def _holds(path, device):
    return b'"device":"' + device + b'"' in path.read_bytes()
