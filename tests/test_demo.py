"""The demo election: complete, realistic, in five languages, always open, never overwritten."""

import datetime
import random
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync import crypto
from sync.demo import demo_paths, demo_source_text, write_demo
from sync.election import PACKAGE_FIELDS, load_source, open_secret, read_package
from sync.errors import ElectionError

NOW = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)

# The 27 cantons of the Pyrénées-Atlantiques (2015 map).
CANTONS_64 = {
    "Anglet", "Artix et Pays de Soubestre", "Baïgura et Mondarrain", "Bayonne-1", "Bayonne-2",
    "Bayonne-3", "Biarritz", "Billère et Coteaux de Jurançon", "Le Cœur de Béarn",
    "Hendaye-Côte Basque-Sud", "Lescar, Gave et Terres du Pont-Long", "Montagne Basque",
    "Nive-Adour", "Oloron-Sainte-Marie-1", "Oloron-Sainte-Marie-2",
    "Orthez et Terres des Gaves et du Sel", "Ouzom, Gave et Rives du Neez", "Pau-1", "Pau-2",
    "Pau-3", "Pau-4", "Pays de Bidache, Amikuze et Ostibarre",
    "Pays de Morlaàs et du Montanérès", "Saint-Jean-de-Luz",
    "Terres des Luys et Coteaux du Vic-Bilh", "Ustaritz-Vallées de Nive et Nivelle",
    "Vallées de l'Ousse et du Lagoin",
}  # fmt: skip


def _texts(e):
    """Every per-language text of the election, with where it is."""
    yield "title", e.body["title"]
    yield "intro", e.body["intro"]
    yield "privacy_notice", e.body["privacy_notice"]
    yield "residence_declaration", e.eligibility["residence_declaration"]
    for s in e.sections:
        yield f"{s.id}.title", s.title
        yield f"{s.id}.summary", s.summary
        for p in s.projects:
            yield f"{p['id']}.title", p["title"]
            yield f"{p['id']}.summary", p["summary"]


def test_demo_files_and_modes(demo):
    p = demo.paths
    for path in (p.authority_key, p.secret, p.central_key):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert p.package.read_bytes() == demo.package
    assert (
        read_package(demo.package, authority_key=crypto.public_bytes(demo.authority_key)).id
        == demo.election.id
    )
    assert open_secret(demo.election, demo.central_key) == demo.secret
    assert bytes.fromhex(p.central_public.read_text()) == demo.election.central_key
    body = {k: v for k, v in demo.election.body.items() if k not in PACKAGE_FIELDS}
    assert load_source(p.source) == body


def test_demo_is_complete_and_realistic(demo):
    e = demo.election
    assert e.languages == ("fr", "en", "es", "eu", "oc")
    assert [s.ballot["type"] for s in e.sections] == ["approval", "knapsack"]
    assert e.sections[0].ballot == {"type": "approval", "min": 1, "max": 3}
    assert 14 <= sum(len(s.projects) for s in e.sections) <= 18
    cantons = {p["canton"] for s in e.sections for p in s.projects}
    assert cantons <= CANTONS_64
    assert e.sections[0].tally["reserved"] == [{"category": "jeunesse", "amount": 300000}]
    assert e.sections[1].tally["min_per_canton"] is True
    for s in e.sections:
        assert sum(p["cost"] for p in s.projects) > s.budget  # a real choice to make
        assert any(p["category"] == "jeunesse" for p in s.projects)
    assert e.eligibility["residence_declaration"]
    assert "birth_date" in e.eligibility["identity_fields"]


def test_every_text_is_in_five_languages_and_translated(demo):
    for where, text in _texts(demo.election):
        assert set(text) == {"fr", "en", "es", "eu", "oc"}, where
        if len(text["fr"]) > 40:
            assert len(set(text.values())) == 5, f"{where} has untranslated copies"


def test_privacy_notice_says_what_is_kept_how_long_and_whom_to_ask(demo):
    notice = demo.election.body["privacy_notice"]
    assert all(
        word in notice["fr"] for word in ("empreinte", "3 mois", "dpo@", "CNIL", "effacement")
    )
    assert all(
        word in notice["en"] for word in ("fingerprint", "3 months", "dpo@", "CNIL", "delete")
    )
    for text in notice.values():
        assert "dpo@departement64.example" in text


def test_demo_window_is_open_around_now(tmp_path):
    paths = write_demo(tmp_path / "d", now=NOW, rng=random.Random(1))
    e = read_package(paths.package.read_bytes())
    assert e.window == {"opens": "2026-11-25", "closes": "2027-01-25", "timezone": "Europe/Paris"}
    e.check_open(NOW)
    e.check_open(NOW + datetime.timedelta(days=59))
    with pytest.raises(ElectionError, match="closed"):
        e.check_open(NOW + datetime.timedelta(days=62))


def test_demo_is_reproducible_with_now_and_rng(tmp_path):
    a = write_demo(tmp_path / "a", now=NOW, rng=random.Random(7))
    b = write_demo(tmp_path / "b", now=NOW, rng=random.Random(7))
    c = write_demo(tmp_path / "c", now=NOW, rng=random.Random(8))
    assert a.package.read_bytes() == b.package.read_bytes() != c.package.read_bytes()


def test_demo_refuses_to_overwrite_and_changes_nothing(tmp_path):
    paths = write_demo(tmp_path / "d", now=NOW)
    before = {p: p.read_bytes() for p in paths.dir.rglob("*") if p.is_file()}
    with pytest.raises(ElectionError, match="refusing to overwrite"):
        write_demo(tmp_path / "d", now=NOW)
    assert {p: p.read_bytes() for p in paths.dir.rglob("*") if p.is_file()} == before


def test_demo_refuses_a_naive_clock():
    with pytest.raises(ElectionError, match="naive"):
        demo_source_text(datetime.datetime(2026, 11, 26))


def test_demo_keys_load_as_the_right_types(demo):
    p = demo_paths(demo.paths.dir)
    assert crypto.load_private_key(p.central_key, kind=X25519PrivateKey)
    assert len(crypto.read_secret(p.secret)) == 32
