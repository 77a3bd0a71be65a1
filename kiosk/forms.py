"""Reading what the resident sends: identity fields and ballot choices, with plain-word problems."""

import datetime
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from sync import ballot as rules
from sync.errors import SelectionError

# Labels and hints of the identity fields an election may ask for.
IDENTITY_LABELS = {
    "last_name": _l("Last name"),
    "first_name": _l("First name(s)"),
    "birth_date": _l("Date of birth"),
    "postcode": _l("Postcode"),
    "commune": _l("Town or village (commune)"),
}
IDENTITY_HINTS = {
    "last_name": _l("As written on an official document."),
    "first_name": _l("All your first names, as written on an official document."),
    "birth_date": _l("For example 14/07/1990."),
    "postcode": _l("5 digits, for example 64000."),
    "commune": None,
}
_DATE_FR = re.compile(r"([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})\Z")


def _parse_date(text):
    """A date typed as YYYY-MM-DD (the date picker) or DD/MM/YYYY (typed by hand), else None."""
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            return datetime.date.fromisoformat(text)
        m = _DATE_FR.match(text)
        if m:
            return datetime.date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        return None
    return None


# The birth date is typed as three numbers, so no browser locale can swap the day and the month.
DATE_PARTS = ("day", "month", "year")
DATE_PART_LABELS = {"day": _l("Day"), "month": _l("Month"), "year": _l("Year")}
BIRTH_DATE_PARTS_HINT = _l("Day, month and year in numbers, for example 14 07 1990.")


def date_part_name(name, part):
    """The form name of one part of a date field: `birth_date-day`, `birth_date-year`..."""
    return f"{name}-{part}"


def date_parts(form, name="birth_date"):
    """The day, month and year typed in a form as a dict of strings (for showing them again)."""
    return {part: form.get(date_part_name(name, part), "").strip()[:4] for part in DATE_PARTS}


def _read_birth_date(form, today):
    """(ISO date or the text typed, error or None) from the three boxes or one typed date."""
    parts = date_parts(form)
    if any(parts.values()):
        if not all(parts.values()):
            return "", _("Please fill in the day, the month and the year of your date of birth.")
        if not all(v.isascii() and v.isdigit() for v in parts.values()):
            return "", _("The date of birth is written with numbers only, for example 14 07 1990.")
        if len(parts["year"]) != 4:
            return "", _("Write the year with 4 digits, for example 1990.")
        text = "{day}/{month}/{year}".format(**parts)
    else:
        # One box (the agent's paper entry, or an older page): DD/MM/YYYY or YYYY-MM-DD.
        text = " ".join(form.get("birth_date", "").split())[:100]
        if not text:
            return "", _("Please fill in: %(field)s.", field=IDENTITY_LABELS["birth_date"])
    day = _parse_date(text)
    if day is None:
        return text, _("The date of birth is not a real date. Check the day and the month.")
    if today is not None and day > today:
        return text, _("The date of birth is in the future. Check the year.")
    return day.isoformat(), None


def read_identity(form, eligibility, *, today=None):
    """Return (fields, declared, errors) from a check-in form; errors maps field -> message.

    The birth date comes from three boxes (`birth_date-day`, `-month`, `-year`) or one
    `birth_date` box; with `today`, a date after it is a field error too.
    """
    fields, errors = {}, {}
    for name in eligibility["identity_fields"]:
        if name == "birth_date":
            fields[name], error = _read_birth_date(form, today)
            if error:
                errors[name] = error
            continue
        value = " ".join(form.get(name, "").split())[:100]
        fields[name] = value
        if not value:
            errors[name] = _("Please fill in: %(field)s.", field=IDENTITY_LABELS[name])
        elif name == "postcode" and not re.fullmatch(r"[0-9]{5}", value):
            errors[name] = _("The postcode has 5 digits, for example 64000.")
    declared = form.get("declaration") == "yes"
    if eligibility.get("residence_declaration") and not declared:
        errors["declaration"] = _("Please tick the box to declare that you may take part.")
    return fields, declared, errors


def _count(raw):
    """A small whole number typed or picked in a form, else 0 ("²" and "1e9" are not numbers)."""
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 4 else 0


def read_selection(section, form):
    """The selection a ballot form describes, in the section's canonical shape (not validated)."""
    kind = section.ballot["type"]
    known = {p["id"] for p in section.projects}
    if kind in rules.LIST_TYPES:
        return sorted({pid for pid in form.getlist("project") if pid in known})
    if kind == "cumulative":
        points = {p["id"]: _count(form.get(f"points-{p['id']}", "")) for p in section.projects}
        return {pid: n for pid, n in points.items() if n > 0}
    ranks = [(_count(form.get(f"rank-{p['id']}", "")), p["id"]) for p in section.projects]
    return [pid for rank, pid in sorted(ranks) if rank > 0]


def ranks_clash(section, form):
    """Projects given the same rank (a ranked ballot needs distinct ranks)."""
    seen, clash = set(), []
    for p in section.projects:
        rank = _count(form.get(f"rank-{p['id']}", ""))
        if rank > 0:
            if rank in seen:
                clash.append(rank)
            seen.add(rank)
    return clash


def chosen_ids(section, selection):
    """Ids of the projects a selection supports."""
    return set(selection) if selection else set()


def tally(section, selection):
    """Figures for the live counter of a section: what is chosen, spent and left."""
    kind = section.ballot["type"]
    b = section.ballot
    chosen = len(chosen_ids(section, selection))
    spent = section.cost(list(chosen_ids(section, selection)))
    out = {"kind": kind, "chosen": chosen, "spent": spent, "budget": section.budget}
    if kind == "approval":
        out.update(min=b["min"], max=b["max"], left=max(b["max"] - chosen, 0))
    elif kind == "knapsack":
        out.update(left_money=section.budget - spent, min_spend=b["min_spend"])
    elif kind == "cumulative":
        used = sum(selection.values()) if selection else 0
        out.update(points=b["points"], used=used, left=b["points"] - used, per=b["max_per_project"])
    else:
        out.update(k=b["k"], left=max(b["k"] - chosen, 0))
    return out


def problems(section, selection, money):
    """Plain-word reasons why a selection breaks the section's rule (empty when it is valid)."""
    t = tally(section, selection)
    kind, out = t["kind"], []
    if kind == "approval":
        if t["chosen"] > t["max"]:
            out.append(
                ngettext(
                    "Too many projects: at most %(num)s is allowed.",
                    "Too many projects: at most %(num)s are allowed.",
                    t["max"],
                )
                + " "
                + ngettext(
                    "Untick %(num)s project.", "Untick %(num)s projects.", t["chosen"] - t["max"]
                )
            )
        if t["chosen"] < t["min"]:
            out.append(
                ngettext(
                    "Please choose at least %(num)s project.",
                    "Please choose at least %(num)s projects.",
                    t["min"],
                )
            )
    elif kind == "knapsack":
        if t["spent"] > section.budget:
            out.append(
                _(
                    "Your choices cost %(spent)s, more than the budget of %(budget)s. Untick projects to save %(over)s.",
                    spent=money(t["spent"]),
                    budget=money(section.budget),
                    over=money(t["spent"] - section.budget),
                )
            )
        if t["spent"] < t["min_spend"] and not (t["chosen"] == 0 and rules.blank_allowed(section)):
            out.append(
                _("Please choose projects worth at least %(min)s.", min=money(t["min_spend"]))
            )
    elif kind == "cumulative":
        if t["used"] > t["points"]:
            out.append(
                _(
                    "You gave %(used)s points but you have %(points)s.",
                    used=t["used"],
                    points=t["points"],
                )
            )
        if any(v > t["per"] for v in selection.values()):
            out.append(_("A project can get at most %(per)s points.", per=t["per"]))
    else:
        if t["chosen"] > t["k"]:
            out.append(
                ngettext(
                    "Too many projects ranked: at most %(num)s is allowed.",
                    "Too many projects ranked: at most %(num)s are allowed.",
                    t["k"],
                )
            )
        if t["chosen"] == 0:
            out.append(_("Please rank at least one project."))
    if not out:
        try:
            section.validate(selection)
        except SelectionError as exc:
            # A rule this page does not explain in its own words: still never drop the choice.
            out.append(_("These choices are not valid: %(why)s", why=str(exc)))
    return out
