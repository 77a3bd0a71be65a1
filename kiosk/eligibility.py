"""Who may vote: the election's eligibility rules applied to a typed identity, storing nothing."""

import re
from datetime import date

from sync.tags import normalise_text

from .errors import Ineligible

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})\Z")
_FR = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\Z")

# Stable codes the web pages translate; the reasons below are the English fallback.
REASONS = {
    "missing": "please fill in: {field}",
    "bad_date": "the birth date is not a real date (expected DD/MM/YYYY)",
    "too_young": "you must be at least {min_age} years old on the voting day",
    "outside_area": "this vote is for residents of the area; your postcode or commune is not in it",
    "no_declaration": "please confirm that you live, work or study in the area",
}


def _refuse(code, where=None, **values):
    raise Ineligible(code, REASONS[code].format(**values), where=where)


def parse_birth_date(value):
    """A birth date typed as YYYY-MM-DD or DD/MM/YYYY (or a date), or Ineligible('bad_date')."""
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if m := _ISO.match(text):
        y, mo, d = (int(g) for g in m.groups())
    elif m := _FR.match(text):
        d, mo, y = (int(g) for g in m.groups())
    else:
        _refuse("bad_date", where="birth_date")
    try:
        return date(y, mo, d)
    except ValueError:
        _refuse("bad_date", where="birth_date")


def age_on(birth, day):
    """Whole years of age on `day` (someone born on 29 February turns a year older on 1 March)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _in_area(rules, fields):
    postcode = re.sub(r"\s", "", fields.get("postcode", ""))
    if postcode in rules.get("postcodes", ()):
        return True
    if postcode and any(postcode.startswith(p) for p in rules.get("postcode_prefixes", ())):
        return True
    communes = {normalise_text(c) for c in rules.get("communes", ())}
    return bool(fields.get("commune")) and normalise_text(fields["commune"]) in communes


def identity_fields(election, identity):
    """The identity fields the election asks for, present and dates as ISO, or Ineligible."""
    if not isinstance(identity, dict):
        raise Ineligible("missing", "no identity given", got=type(identity).__name__)
    fields = {}
    for name in election.eligibility["identity_fields"]:
        value = identity.get(name)
        if isinstance(value, date):
            value = value.isoformat()
        if not isinstance(value, str) or not value.strip():
            _refuse("missing", where=name, field=name.replace("_", " "))
        fields[name] = value
    if "birth_date" in fields:
        fields["birth_date"] = parse_birth_date(fields["birth_date"]).isoformat()
    return fields


def check(election, identity, *, today):
    """Return the identity fields the voter tag is made of, or raise Ineligible with its reason."""
    rules = election.eligibility
    fields = identity_fields(election, identity)
    if "birth_date" in fields:
        birth = date.fromisoformat(fields["birth_date"])
        if birth > today:
            _refuse("bad_date", where="birth_date")
        if age_on(birth, today) < rules.get("min_age", 0):
            _refuse("too_young", where="birth_date", min_age=rules["min_age"])
    if not _in_area(rules, fields):
        _refuse("outside_area", where="postcode" if "postcode" in fields else "commune")
    if rules.get("residence_declaration") and identity.get("declaration") is not True:
        _refuse("no_declaration", where="declaration")
    return fields
