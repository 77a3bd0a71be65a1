"""Validate and normalise an election source (TOML or package body) into plain JSON values."""

import datetime
import re
import unicodedata
import zoneinfo

from .errors import ElectionError
from .tally.model import BALLOT_TYPES, RULES  # one vocabulary for sources and the tally

LANGUAGES = ("fr", "en", "es", "eu", "oc")
ID_PATTERN = r"[A-Za-z0-9._/-]{1,40}"
CATEGORY_PATTERN = r"[a-z0-9_-]{1,40}"
IDENTITY_FIELDS = ("last_name", "first_name", "birth_date", "postcode", "commune")
POLICIES = ("hold", "earliest", "latest", "paper-wins")
MAX_BUDGET = 10**12  # a trillion euros: far above any budget, far below 2^53
MAX_PROJECTS = 500
MAX_SECTIONS = 50

_ID_RE = re.compile(ID_PATTERN + r"\Z")
_CATEGORY_RE = re.compile(CATEGORY_PATTERN + r"\Z")
_SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}\Z")
_POSTCODE_RE = re.compile(r"[0-9]{5}\Z")
_PREFIX_RE = re.compile(r"[0-9]{2,4}\Z")
_HIDDEN = ("Cc", "Cf", "Zl", "Zp")  # control, format (bidi overrides), line/paragraph breaks

# Shown when the source says `residence_declaration = true` without its own wording.
DEFAULT_DECLARATION = {
    "fr": "J'habite, je travaille ou j'étudie sur ce territoire.",
    "en": "I live, work or study in this area.",
    "es": "Vivo, trabajo o estudio en este territorio.",
    "eu": "Lurralde honetan bizi naiz, lan egiten dut edo ikasten dut.",
    "oc": "Demòri, trabalhi o estudii sus aqueste territòri.",
}


class Plain(str):
    """A description of what was found (shown as is, where a found string is quoted)."""


MISSING, NOTHING, NONE = Plain("missing"), Plain("nothing"), Plain("none")


def fail(where, message, expected=None, got=None):
    """Raise the ElectionError of one field."""
    if got is not None and not isinstance(got, (int, float, str)):
        got = Plain(type(got).__name__)
    if isinstance(got, str) and len(got) > 60:
        got = type(got)(got[:57] + "...")
    if isinstance(got, str) and not isinstance(got, Plain):
        got = repr(got)
    raise ElectionError(message, where=where, expected=expected, got=got)


def _join(where, key):
    return f"{where}.{key}" if where else key


def _table(value, where, required=(), optional=()):
    if not isinstance(value, dict):
        fail(where, "expected a table", "table", value)
    for key in value:
        if key not in required and key not in optional:
            allowed = ", ".join(sorted((*required, *optional)))
            fail(_join(where, key), "unknown field", f"one of {allowed}", key)
    for key in required:
        if key not in value:
            fail(_join(where, key), "missing field", "a value", NOTHING)
    return value


def _int(value, where, lo=None, hi=None):
    if isinstance(value, bool) or not isinstance(value, int):
        got = Plain(f"the text {value!r}") if isinstance(value, str) else value
        got = Plain(str(value).lower()) if isinstance(value, bool) else got
        fail(where, "not a whole number", "digits only, without quotes or spaces", got)
    if lo is not None and value < lo:
        fail(where, "number too small", f">= {lo}", value)
    if hi is not None and value > hi:
        fail(where, "number too large", f"<= {hi}", value)
    return value


def _bool(value, where):
    if not isinstance(value, bool):
        fail(where, "expected true or false", "boolean", value)
    return value


def _str(value, where, max_len=200, pattern=None, expected=None, multiline=False):
    if not isinstance(value, str):
        fail(where, "expected a string", "string", value)
    value = unicodedata.normalize("NFC", value)
    if not value.strip():
        fail(where, "empty string", "non-empty text", value)
    if len(value) > max_len:
        fail(where, "text too long", f"<= {max_len} characters", len(value))
    # Control and format characters could hide or reorder text on a kiosk screen or a terminal.
    lines = value.split("\n") if multiline else [value]
    if not all(line.isprintable() for line in lines):  # fast path; isprintable also refuses NBSP
        for ch in value:
            if unicodedata.category(ch) in _HIDDEN and not (multiline and ch == "\n"):
                fail(
                    where, "control character in text", "printable text", Plain(f"U+{ord(ch):04X}")
                )
    if pattern is not None and not pattern.match(value):
        fail(where, "malformed value", expected or pattern.pattern, value)
    return value


def _list(value, where, max_len=1000):
    if not isinstance(value, list):
        fail(where, "expected a list", "list", value)
    if len(value) > max_len:
        fail(where, "list too long", f"<= {max_len} items", len(value))
    return value


def _distinct(items, where, label):
    seen = set()
    for i, item in enumerate(items):
        if not isinstance(item, str):
            fail(f"{where}[{i}]", "expected a string", "string", item)
        if item in seen:
            fail(f"{where}[{i}]", f"duplicate {label}", f"each {label} once", item)
        seen.add(item)
    return items


def _text(value, where, langs, max_len=200, multiline=False, complete=False):
    """A per-language table (every language when complete); a string is the default's text."""
    if isinstance(value, str):
        value = {langs[0]: value}
    if not isinstance(value, dict):
        fail(where, "expected a per-language table", 'table such as {fr = "..."}', value)
    out = {}
    for lang, text in value.items():
        if lang not in langs:
            fail(_join(where, lang), "language not declared in `languages`", "/".join(langs), lang)
        out[lang] = _str(text, _join(where, lang), max_len, multiline=multiline)
    if langs[0] not in out:
        fail(_join(where, langs[0]), "missing text in the default language", "a text", NOTHING)
    for lang in langs if complete else ():
        if lang not in out:
            fail(
                _join(where, lang),
                "missing translation of a text shown before voting",
                "a text",
                NOTHING,
            )
    return out


def _date(value, where):
    if isinstance(value, datetime.datetime):
        fail(where, "expected a date without time", "YYYY-MM-DD", value.isoformat())
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return (
                datetime.date.fromisoformat(value).isoformat()
                if len(value) == 10
                else fail(where, "malformed date", "YYYY-MM-DD", value)
            )
        except ValueError:
            fail(where, "malformed date", "YYYY-MM-DD", value)
    fail(where, "expected a date", "YYYY-MM-DD", value)


def _languages(value):
    langs = _distinct(_list(value, "languages", 5), "languages", "language")
    for i, lang in enumerate(langs):
        if lang not in LANGUAGES:
            fail(f"languages[{i}]", "unsupported language", "/".join(LANGUAGES), lang)
    if not langs or langs[0] != "fr":
        fail("languages[0]", "French must come first", "'fr'", langs[0] if langs else NOTHING)
    return list(langs)


def _window(value):
    t = _table(value, "window", ("opens", "closes"), ("timezone",))
    opens, closes = _date(t["opens"], "window.opens"), _date(t["closes"], "window.closes")
    if closes < opens:
        fail("window.closes", "closes before it opens", f">= {opens}", closes)
    tz = _str(t.get("timezone", "Europe/Paris"), "window.timezone", 64)
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        fail("window.timezone", "unknown time zone", "an IANA zone such as Europe/Paris", tz)
    return {"opens": opens, "closes": closes, "timezone": tz}


def _eligibility(value, langs):
    w = "eligibility"
    t = _table(
        value,
        w,
        ("identity_fields",),
        ("min_age", "postcodes", "postcode_prefixes", "communes", "residence_declaration"),
    )
    fields = _distinct(
        _list(t["identity_fields"], f"{w}.identity_fields", 5), f"{w}.identity_fields", "field"
    )
    for i, f in enumerate(fields):
        if f not in IDENTITY_FIELDS:
            fail(
                f"{w}.identity_fields[{i}]", "unknown identity field", "/".join(IDENTITY_FIELDS), f
            )
    # Without both names every resident of a postcode would share one voter tag.
    for needed in ("last_name", "first_name"):
        if needed not in fields:
            fail(f"{w}.identity_fields", "identity fields must include both names", needed, MISSING)
    min_age = _int(t.get("min_age", 0), f"{w}.min_age", 0, 120)
    if min_age and "birth_date" not in fields:
        fail(f"{w}.identity_fields", "a minimum age needs the birth date", "birth_date", MISSING)
    out = {"identity_fields": list(fields), "min_age": min_age}
    for key, pattern, label in (
        ("postcodes", _POSTCODE_RE, "5 digits"),
        ("postcode_prefixes", _PREFIX_RE, "2 to 4 digits"),
        ("communes", None, None),
    ):
        items = _list(t.get(key, []), f"{w}.{key}", 5000)
        items = [_str(x, f"{w}.{key}[{i}]", 100, pattern, label) for i, x in enumerate(items)]
        out[key] = _distinct(items, f"{w}.{key}", key[:-1].replace("_", " "))
    if not (out["postcodes"] or out["postcode_prefixes"] or out["communes"]):
        fail(w, "no accepted place", "postcodes, postcode_prefixes or communes", NONE)
    if (out["postcodes"] or out["postcode_prefixes"]) and "postcode" not in fields:
        fail(
            f"{w}.identity_fields",
            "accepted postcodes need the postcode field",
            "postcode",
            MISSING,
        )
    if out["communes"] and "commune" not in fields:
        fail(f"{w}.identity_fields", "accepted communes need the commune field", "commune", MISSING)
    decl = t.get("residence_declaration", False)
    if decl is True:
        decl = {lang: DEFAULT_DECLARATION[lang] for lang in langs}
    elif decl is False or decl is None:
        decl = None
    else:
        decl = _text(decl, f"{w}.residence_declaration", langs, 300)
    out["residence_declaration"] = decl
    return out


def _project(value, where, langs, budget):
    t = _table(value, where, ("id", "title", "summary", "cost", "canton", "category"))
    return {
        "id": _str(t["id"], f"{where}.id", 40, _ID_RE, ID_PATTERN),
        "title": _text(t["title"], f"{where}.title", langs, 200),
        "summary": _text(t["summary"], f"{where}.summary", langs, 2000, multiline=True),
        "cost": _int(t["cost"], f"{where}.cost", 1, budget),
        "canton": _str(t["canton"], f"{where}.canton", 100),
        "category": _str(t["category"], f"{where}.category", 40, _CATEGORY_RE, CATEGORY_PATTERN),
    }


def _ballot(value, where, budget, projects):
    if not isinstance(value, dict):
        fail(where, "expected a table", "table", value)
    kind = value.get("type")
    if kind not in BALLOT_TYPES:
        fail(f"{where}.type", "unknown ballot type", "/".join(BALLOT_TYPES), kind)
    n = len(projects)
    if kind == "approval":
        t = _table(value, where, ("type", "max"), ("min",))
        hi = _int(t["max"], f"{where}.max", 1, n)
        lo = _int(t.get("min", 0), f"{where}.min", 0, hi)
        return {"type": kind, "min": lo, "max": hi}
    if kind == "knapsack":
        t = _table(value, where, ("type",), ("min_spend",))
        total = sum(p["cost"] for p in projects)
        min_spend = _int(t.get("min_spend", 0), f"{where}.min_spend", 0, min(budget, total))
        return {"type": kind, "min_spend": min_spend}
    if kind == "cumulative":
        t = _table(value, where, ("type", "points", "max_per_project"))
        points = _int(t["points"], f"{where}.points", 1, 1000)
        per = _int(t["max_per_project"], f"{where}.max_per_project", 1, points)
        return {"type": kind, "points": points, "max_per_project": per}
    t = _table(value, where, ("type", "k"))
    return {"type": kind, "k": _int(t["k"], f"{where}.k", 1, n)}


def _tally(value, where, budget, projects):
    t = _table(value, where, ("rules",), ("threshold", "min_per_canton", "reserved"))
    rules = _distinct(_list(t["rules"], f"{where}.rules", len(RULES)), f"{where}.rules", "rule")
    if not rules:
        fail(f"{where}.rules", "no tally rule", "at least one rule", Plain("[]"))
    for i, rule in enumerate(rules):
        if rule not in RULES:
            fail(f"{where}.rules[{i}]", "unknown tally rule", "/".join(RULES), rule)
    threshold = _int(t.get("threshold", 0), f"{where}.threshold", 0, 10**9)
    if "greedy-threshold" in rules and not threshold:
        fail(f"{where}.threshold", "greedy-threshold needs a threshold", ">= 1", threshold)
    reserved = []
    categories = {p["category"] for p in projects}
    for i, item in enumerate(_list(t.get("reserved", []), f"{where}.reserved", 20)):
        w = f"{where}.reserved[{i}]"
        r = _table(item, w, ("category", "amount"))
        cat = _str(r["category"], f"{w}.category", 40, _CATEGORY_RE, CATEGORY_PATTERN)
        if cat not in categories:
            fail(f"{w}.category", "no project of this category", "/".join(sorted(categories)), cat)
        reserved.append({"category": cat, "amount": _int(r["amount"], f"{w}.amount", 1, budget)})
    _distinct([r["category"] for r in reserved], f"{where}.reserved", "category")
    total = sum(r["amount"] for r in reserved)
    if total > budget:
        fail(f"{where}.reserved", "reserved envelopes exceed the budget", f"<= {budget}", total)
    return {
        "rules": list(rules),
        "threshold": threshold,
        "min_per_canton": _bool(t.get("min_per_canton", False), f"{where}.min_per_canton"),
        "reserved": reserved,
    }


def _section(value, where, langs, seen_projects):
    t = _table(value, where, ("id", "title", "budget", "ballot", "tally", "projects"), ("summary",))
    budget = _int(t["budget"], f"{where}.budget", 1, MAX_BUDGET)
    projects = []
    for i, p in enumerate(_list(t["projects"], f"{where}.projects", MAX_PROJECTS)):
        project = _project(p, f"{where}.projects[{i}]", langs, budget)
        if project["id"] in seen_projects:
            fail(
                f"{where}.projects[{i}].id",
                "duplicate project id",
                "ids unique in the election",
                project["id"],
            )
        seen_projects.add(project["id"])
        projects.append(project)
    if not projects:
        fail(f"{where}.projects", "a section needs projects", "at least one project", NONE)
    out = {
        "id": _str(t["id"], f"{where}.id", 40, _ID_RE, ID_PATTERN),
        "title": _text(t["title"], f"{where}.title", langs, 200),
        "budget": budget,
        "ballot": _ballot(t["ballot"], f"{where}.ballot", budget, projects),
        "tally": _tally(t["tally"], f"{where}.tally", budget, projects),
        "projects": projects,
    }
    if "summary" in t:
        out["summary"] = _text(t["summary"], f"{where}.summary", langs, 2000, multiline=True)
    return out


SOURCE_FIELDS = (
    "slug",
    "title",
    "intro",
    "privacy_notice",
    "languages",
    "window",
    "eligibility",
    "sections",
)


def validate_source(source):
    """Return the normalised election (strings NFC, defaults filled) or raise ElectionError."""
    t = _table(source, "", SOURCE_FIELDS, ("currency", "duplicate_policy"))
    langs = _languages(t["languages"])
    currency = t.get("currency", "EUR")
    if currency != "EUR":
        fail("currency", "unsupported currency", "'EUR'", currency)
    policy = t.get("duplicate_policy", "hold")
    if policy not in POLICIES:
        fail("duplicate_policy", "unknown duplicate policy", "/".join(POLICIES), policy)
    sections, seen = [], set()
    for i, s in enumerate(_list(t["sections"], "sections", MAX_SECTIONS)):
        sections.append(_section(s, f"sections[{i}]", langs, seen))
        if any(other["id"] == sections[-1]["id"] for other in sections[:-1]):
            fail(
                f"sections[{i}].id",
                "duplicate section id",
                "each section id once",
                sections[-1]["id"],
            )
    if not sections:
        fail("sections", "an election needs a section", "at least one section", NONE)
    return {
        "slug": _str(t["slug"], "slug", 63, _SLUG_RE, "lowercase letters, digits and -"),
        # Residents must understand what they agree to in the language they chose.
        "title": _text(t["title"], "title", langs, 200, complete=True),
        "intro": _text(t["intro"], "intro", langs, 4000, multiline=True, complete=True),
        "privacy_notice": _text(
            t["privacy_notice"], "privacy_notice", langs, 8000, multiline=True, complete=True
        ),
        "languages": langs,
        "currency": "EUR",
        "duplicate_policy": policy,
        "window": _window(t["window"]),
        "eligibility": _eligibility(t["eligibility"], langs),
        "sections": sections,
    }
