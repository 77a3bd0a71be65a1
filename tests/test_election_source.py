"""Election sources: every invalid source is refused with its field; valid ones normalise."""

import copy
import datetime
import unicodedata
from pathlib import Path

import pytest
from fixtures_election import base_source, section
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.election import load_source, validate_source
from sync.errors import ElectionError


class _Delete:
    def __repr__(self):
        return "DELETE"


DELETE = _Delete()


def _set(source, path, value):
    """Set (or delete) a dotted path like 'sections.0.projects.1.cost' in a nested source."""
    *parents, last = path.split(".")
    node = source
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        last = int(last)
    if value is DELETE:
        del node[last]
    else:
        node[last] = value


def _cumulative():
    return [section(ballot={"type": "cumulative", "points": 5, "max_per_project": 3})]


# (path to change, new value, the `where` of the refusal, a word of the message)
INVALID = [
    ("slug", "Mon Élection", "slug", "malformed"),
    ("slug", DELETE, "slug", "missing"),
    ("colour", "blue", "colour", "unknown field"),
    ("currency", "USD", "currency", "currency"),
    ("duplicate_policy", "first", "duplicate_policy", "policy"),
    ("languages", ["en", "fr"], "languages[0]", "French"),
    ("languages", ["fr", "de"], "languages[1]", "unsupported"),
    ("languages", ["fr", "en", "fr"], "languages[2]", "duplicate"),
    ("title", {"en": "Only English"}, "title.fr", "default language"),
    (
        "privacy_notice",
        {"fr": "Seulement en français."},
        "privacy_notice.en",
        "missing translation",
    ),
    ("intro", "Bienvenue.", "intro.en", "missing translation"),
    ("title", {"fr": "Titre", "es": "Título"}, "title.es", "not declared"),
    ("title", {"fr": "   "}, "title.fr", "empty"),
    ("title", {"fr": "x" * 201}, "title.fr", "too long"),
    ("title", {"fr": "Titre\u202e caché"}, "title.fr", "control character"),
    ("title", {"fr": "Titre\nsur deux lignes"}, "title.fr", "control character"),
    (
        "sections.0.projects.0.summary",
        {"fr": "Un\x00nul"},
        "sections[0].projects[0].summary.fr",
        "control",
    ),
    ("title", 12, "title", "per-language"),
    ("intro", DELETE, "intro", "missing"),
    ("privacy_notice", {"fr": ["a"]}, "privacy_notice.fr", "string"),
    ("window.opens", "2026-13-01", "window.opens", "malformed date"),
    ("window.opens", "26/11/2026", "window.opens", "malformed date"),
    ("window.opens", datetime.datetime(2026, 1, 1, 8), "window.opens", "without time"),
    ("window.closes", "2000-01-01", "window.closes", "closes before"),
    ("window.timezone", "Europe/Pau", "window.timezone", "time zone"),
    ("eligibility.min_age", -1, "eligibility.min_age", "too small"),
    ("eligibility.min_age", 16.5, "eligibility.min_age", "whole number"),
    ("eligibility.min_age", True, "eligibility.min_age", "whole number"),
    (
        "eligibility.identity_fields",
        ["last_name", "first_name", "email"],
        "eligibility.identity_fields[2]",
        "unknown identity",
    ),
    (
        "eligibility.identity_fields",
        ["last_name", "birth_date", "postcode"],
        "eligibility.identity_fields",
        "both names",
    ),
    (
        "eligibility.identity_fields",
        ["last_name", "first_name", "postcode"],
        "eligibility.identity_fields",
        "birth date",
    ),
    (
        "eligibility.identity_fields",
        ["last_name", "first_name", "birth_date"],
        "eligibility.identity_fields",
        "postcode",
    ),
    ("eligibility.postcode_prefixes", ["6"], "eligibility.postcode_prefixes[0]", "malformed"),
    ("eligibility.postcode_prefixes", [], "eligibility", "no accepted place"),
    ("eligibility.postcodes", ["6400"], "eligibility.postcodes[0]", "malformed"),
    ("eligibility.postcodes", ["64000", "64000"], "eligibility.postcodes[1]", "duplicate"),
    ("eligibility.communes", ["Pau"], "eligibility.identity_fields", "commune"),
    (
        "eligibility.residence_declaration",
        {"en": "I live here"},
        "eligibility.residence_declaration.fr",
        "default language",
    ),
    ("sections", [], "sections", "needs a section"),
    ("sections", [section("a"), section("a")], "sections[1].projects[0].id", "duplicate project"),
    ("sections.0.id", "bad id!", "sections[0].id", "malformed"),
    ("sections.0.id", "x" * 41, "sections[0].id", "too long"),
    ("sections.0.budget", 0, "sections[0].budget", "too small"),
    ("sections.0.budget", "1000", "sections[0].budget", "whole number"),
    ("sections.0.budget", 350, "sections[0].projects[3].cost", "too large"),
    ("sections.0.projects", [], "sections[0].projects", "needs projects"),
    ("sections.0.projects.1.id", "s1-p1", "sections[0].projects[1].id", "duplicate project"),
    ("sections.0.projects.1.id", "a b", "sections[0].projects[1].id", "malformed"),
    ("sections.0.projects.1.cost", 0, "sections[0].projects[1].cost", "too small"),
    ("sections.0.projects.1.cost", 99.5, "sections[0].projects[1].cost", "whole number"),
    ("sections.0.projects.1.canton", "", "sections[0].projects[1].canton", "empty"),
    ("sections.0.projects.1.category", "Jeunesse", "sections[0].projects[1].category", "malformed"),
    ("sections.0.projects.1.summary", DELETE, "sections[0].projects[1].summary", "missing"),
    ("sections.0.projects.1.image", "x.png", "sections[0].projects[1].image", "unknown field"),
    ("sections.0.ballot", {"type": "borda"}, "sections[0].ballot.type", "unknown ballot"),
    (
        "sections.0.ballot",
        {"type": "approval", "min": 3, "max": 2},
        "sections[0].ballot.min",
        "too large",
    ),
    ("sections.0.ballot", {"type": "approval", "max": 5}, "sections[0].ballot.max", "too large"),
    ("sections.0.ballot", {"type": "approval", "max": 0}, "sections[0].ballot.max", "too small"),
    ("sections.0.ballot", {"type": "approval", "min": 1}, "sections[0].ballot.max", "missing"),
    (
        "sections.0.ballot",
        {"type": "approval", "max": 2, "k": 1},
        "sections[0].ballot.k",
        "unknown field",
    ),
    (
        "sections.0.ballot",
        {"type": "knapsack", "min_spend": 501},
        "sections[0].ballot.min_spend",
        "too large",
    ),
    (
        "sections.0.ballot",
        {"type": "cumulative", "points": 3, "max_per_project": 4},
        "sections[0].ballot.max_per_project",
        "too large",
    ),
    (
        "sections.0.ballot",
        {"type": "cumulative", "points": 0, "max_per_project": 1},
        "sections[0].ballot.points",
        "too small",
    ),
    ("sections.0.ballot", {"type": "ranked", "k": 5}, "sections[0].ballot.k", "too large"),
    ("sections.0.tally.rules", [], "sections[0].tally.rules", "no tally rule"),
    ("sections.0.tally.rules", ["borda"], "sections[0].tally.rules[0]", "unknown tally rule"),
    ("sections.0.tally.rules", ["greedy", "greedy"], "sections[0].tally.rules[1]", "duplicate"),
    (
        "sections.0.tally.rules",
        ["greedy-threshold"],
        "sections[0].tally.threshold",
        "needs a threshold",
    ),
    ("sections.0.tally.min_per_canton", "yes", "sections[0].tally.min_per_canton", "true or false"),
    (
        "sections.0.tally.reserved",
        [{"category": "sport", "amount": 100}],
        "sections[0].tally.reserved[0].category",
        "no project",
    ),
    (
        "sections.0.tally.reserved",
        [{"category": "jeunesse", "amount": 0}],
        "sections[0].tally.reserved[0].amount",
        "too small",
    ),
    (
        "sections.0.tally.reserved",
        [{"category": "jeunesse", "amount": 300}, {"category": "culture", "amount": 300}],
        "sections[0].tally.reserved",
        "exceed",
    ),
    (
        "sections.0.tally.reserved",
        [{"category": "jeunesse", "amount": 1}, {"category": "jeunesse", "amount": 1}],
        "sections[0].tally.reserved[1]",
        "duplicate",
    ),
]


@pytest.mark.parametrize(
    ("path", "value", "where", "word"), INVALID, ids=[f"{c[0]}={c[1]!r}"[:60] for c in INVALID]
)
def test_invalid_source_is_refused_with_its_field(path, value, where, word):
    source = base_source()
    validate_source(source)  # the base is valid: the change alone makes it invalid
    _set(source, path, value if value is DELETE else copy.deepcopy(value))
    with pytest.raises(ElectionError) as info:
        validate_source(source)
    assert info.value.where == where, str(info.value)
    assert word in str(info.value)


def test_duplicate_section_ids_are_refused():
    a, b = section("a"), section("b")
    b["id"] = "a"
    source = base_source()
    source["sections"] = [a, b]
    with pytest.raises(ElectionError, match="duplicate section id") as info:
        validate_source(source)
    assert info.value.where == "sections[1].id"


def test_defaults_are_filled_and_strings_are_nfc():
    source = base_source()
    decomposed = unicodedata.normalize("NFD", "Élection à Orthez")
    source["title"]["fr"] = decomposed
    source["sections"][0]["ballot"] = {"type": "knapsack"}
    out = validate_source(source)
    assert out["title"]["fr"] == unicodedata.normalize("NFC", decomposed) != decomposed
    assert out["currency"] == "EUR"
    assert out["duplicate_policy"] == "hold"
    assert out["window"]["timezone"] == "Europe/Paris"
    assert out["eligibility"]["residence_declaration"] is None
    assert out["eligibility"]["communes"] == []
    assert out["sections"][0]["ballot"] == {"type": "knapsack", "min_spend": 0}
    assert out["sections"][0]["tally"] == {
        "rules": ["greedy"],
        "threshold": 0,
        "min_per_canton": False,
        "reserved": [],
    }


def test_normalising_twice_changes_nothing(demo):
    once = validate_source(base_source())
    assert validate_source(copy.deepcopy(once)) == once
    demo_once = load_source(demo.paths.source)
    assert validate_source(copy.deepcopy(demo_once)) == demo_once


def test_plain_string_text_is_the_default_language():
    source = base_source()
    source["sections"][0]["title"] = "Mon quartier"
    assert validate_source(source)["sections"][0]["title"] == {"fr": "Mon quartier"}


def test_residence_declaration_true_gets_the_default_wording_in_each_language():
    source = base_source()
    source["eligibility"]["residence_declaration"] = True
    decl = validate_source(source)["eligibility"]["residence_declaration"]
    assert set(decl) == {"fr", "en"}
    assert "travaille" in decl["fr"]


def test_exactly_three_is_min_equal_max():
    source = base_source()
    source["sections"] = [section(n=5, ballot={"type": "approval", "min": 3, "max": 3})]
    assert validate_source(source)["sections"][0]["ballot"] == {
        "type": "approval",
        "min": 3,
        "max": 3,
    }


def test_not_a_table_is_refused():
    with pytest.raises(ElectionError, match="expected a table"):
        validate_source(["not", "a", "table"])


def test_load_source_reports_toml_errors_with_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('slug = "x"\nslug = "y"\n')
    with pytest.raises(ElectionError, match="not valid TOML") as info:
        load_source(bad)
    assert info.value.where == str(bad)
    with pytest.raises(ElectionError, match="not found"):
        load_source(tmp_path / "missing.toml")


def test_load_source_reports_the_field_of_a_toml_file(tmp_path, demo):
    text = demo.paths.source.read_text().replace("cost = 450000", "cost = -450000")
    src = tmp_path / "election.toml"
    src.write_text(text)
    with pytest.raises(ElectionError) as info:
        load_source(src)
    assert info.value.where == "sections[0].projects[2].cost"
    assert info.value.got == -450000
    # The line docs/election-source.md shows.
    assert (
        str(info.value)
        == "sections[0].projects[2].cost: number too small: expected >= 1, got -450000"
    )


DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_the_documented_full_example_is_valid(tmp_path):
    text = (DOCS / "election-source.md").read_text()
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    src = tmp_path / "example.toml"
    src.write_text(example)
    out = load_source(src)
    assert [s["ballot"]["type"] for s in out["sections"]] == ["approval", "knapsack"]
    assert out["eligibility"]["residence_declaration"]["en"].startswith("I live")


@pytest.mark.parametrize("name", ["bp64.toml", "cumulative-ranked.toml"])
def test_example_sources_are_valid(name):
    assert load_source(DOCS / "examples" / name)["sections"]


def test_messages_quote_found_values_but_not_descriptions():
    source = base_source()
    source["eligibility"]["identity_fields"] = ["last_name", "first_name", "postcode"]
    with pytest.raises(ElectionError) as info:
        validate_source(source)
    assert str(info.value) == (
        "eligibility.identity_fields: a minimum age needs the birth date: "
        "expected birth_date, got missing"
    )
    source = base_source()
    source["slug"] = "A b"
    with pytest.raises(ElectionError, match="got 'A b'"):
        validate_source(source)


def _paths(node, prefix=()):
    """Every path to a value inside a nested source."""
    yield prefix
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in items:
        yield from _paths(child, (*prefix, key))


_BASE = base_source()
_ALL_PATHS = [p for p in _paths(_BASE) if p]
_junk = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**13), 10**13) | st.floats(allow_nan=True)
    | st.text(max_size=12) | st.dates(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(_ALL_PATHS), value=_junk)
def test_any_value_anywhere_is_accepted_or_refused_as_an_election_error(path, value):
    source = copy.deepcopy(_BASE)
    node = source
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    try:
        out = validate_source(source)
    except ElectionError as exc:
        assert exc.where is not None
    else:
        assert validate_source(copy.deepcopy(out)) == out


def test_typography_and_line_breaks_are_kept_where_allowed():
    source = base_source()
    source["sections"][0]["title"] = {
        "fr": "Jusqu\u2019à 300\u202f000\u00a0€ : «\u00a0jeunesse\u00a0»"
    }
    source["sections"][0]["projects"][0]["summary"] = {"fr": "Ligne 1\nLigne 2"}
    out = validate_source(source)["sections"][0]
    assert out["title"]["fr"] == source["sections"][0]["title"]["fr"]
    assert out["projects"][0]["summary"]["fr"] == "Ligne 1\nLigne 2"


@pytest.mark.parametrize(
    ("value", "got"),
    [("1 500 000", "got the text '1 500 000'"), (1500.5, "got 1500.5"), (True, "got true")],
)
def test_a_budget_typo_names_the_field_and_what_was_written(value, got):
    source = base_source()
    source["sections"][0]["budget"] = value
    with pytest.raises(ElectionError) as info:
        validate_source(source)
    assert str(info.value) == (
        "sections[0].budget: not a whole number: expected digits only, without quotes or spaces, "
        + got
    )
