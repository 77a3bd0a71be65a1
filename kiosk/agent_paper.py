"""Agent mode: keying in paper ballots (check-in identity and choices, under the same rules)."""

import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from kiosk import clock, current_store, forms
from kiosk.agent_texts import refusal
from kiosk.errors import AlreadyVoted, Ineligible, StandClosed
from kiosk.i18n import current_lang, money
from sync import ballot as rules
from sync.errors import SelectionError

# A text field read day first (kiosk/forms.py), never the browser's locale-bound date widget.
BIRTH_PATTERN = r"\s*(\d{1,2}[\/.\-]\d{1,2}[\/.\-]\d{4}|\d{4}-\d{2}-\d{2})\s*"
# The agent types for the voter: the resident's "your first names" would be wrong here.
PAPER_HINTS = {
    "first_name": _l("All the voter's first names, as written on the paper ballot."),
}


def _render(template, http_status=200, /, **context):
    return render_template(template, birth_pattern=BIRTH_PATTERN, **context), http_status


def _shown(fields):
    """The identity as the form shows it back: a read birth date day first, as typed."""
    day = fields.get("birth_date", "")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
        return dict(fields, birth_date=f"{day[8:10]}/{day[5:7]}/{day[0:4]}")
    return fields


def _named(section, found):
    """A section's problems, each naming the section: the paper form shows them all at once."""
    title = current_store().election.text(section.title, current_lang())
    return [_("%(section)s: %(problem)s", section=title, problem=p) for p in found]


def _section_form(form, section):
    """The part of the paper form for one section, with the names the resident's form reads."""
    prefix = f"{section.id}:"
    return MultiDict(
        [(k[len(prefix) :], v) for k, v in form.items(multi=True) if k.startswith(prefix)]
    )


def paper():
    """Key in one paper ballot: check-in identity and choices, under the same rules."""
    store = current_store()
    election = store.election
    context = {
        "eligibility": election.eligibility,
        "declaration": election.text(
            election.eligibility.get("residence_declaration"), current_lang()
        ),
        "labels": forms.IDENTITY_LABELS,
        "hints": {**forms.IDENTITY_HINTS, **PAPER_HINTS},
        "sections": election.sections,
        "blank_ok": rules.blank_allowed,
        "stand_open": store.session().open,
    }
    if request.method == "GET":
        return _render("agent/paper.html", values={}, chosen={}, errors={}, problems={}, **context)
    fields, declared, errors = forms.read_identity(request.form, election.eligibility)
    selections, problems, chosen = {}, {}, {}
    for section in election.sections:
        sub = _section_form(request.form, section)
        selections[section.id] = forms.read_selection(section, sub)
        chosen[section.id] = sub
        found = forms.problems(section, selections[section.id], money)
        if section.ballot["type"] == "ranked" and forms.ranks_clash(section, sub):
            found.insert(0, _("Two projects have the same rank. Give each project its own rank."))
        if found:
            problems[section.id] = _named(section, found)
    lang = request.form.get("lang", election.languages[0])
    if lang not in election.languages:
        errors["lang"] = _("Choose the language of the paper ballot.")
    page = {
        "values": _shown(fields),
        "declared": declared,
        "chosen": chosen,
        "errors": errors,
        "problems": problems,
    }
    if errors or problems:
        return _render("agent/paper.html", 422, **page, **context)
    identity = dict(fields, declaration=declared)
    try:
        receipt = store.cast(
            selections,
            identity=identity,
            lang=lang,
            channel="paper",
            now=clock.now(),
            clock=clock.source(),
        )
    except Ineligible as exc:
        return _render(
            "agent/paper.html", 403, refused=refusal(exc, election.eligibility), **page, **context
        )
    except AlreadyVoted:
        refused = _(
            "This person has already voted at this stand: the paper ballot is not counted. Set it aside."
        )
        return _render("agent/paper.html", 409, refused=refused, **page, **context)
    except StandClosed:
        refused = _("The stand is not open: open it before keying in paper ballots.")
        return _render("agent/paper.html", 409, refused=refused, **page, **context)
    except SelectionError as exc:
        refused = _("These choices are not valid: %(why)s", why=str(exc))
        return _render("agent/paper.html", 422, refused=refused, **page, **context)
    flash(
        _("Paper ballot recorded (record %(seq)s). You can key in the next one.", seq=receipt.seq),
        "ok",
    )
    return redirect(url_for("agent.paper"))
