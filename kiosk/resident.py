"""The resident's way through: welcome, check-in, ballot per section, review, receipt."""

import re

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from kiosk import clock, current_flows, current_store, forms
from kiosk.errors import AlreadyVoted, Ineligible, KioskError, StandClosed
from kiosk.i18n import current_lang, languages, money
from sync import ballot as rules
from sync.errors import SelectionError, UrneError

bp = Blueprint("resident", __name__)

# Refusal codes of kiosk.eligibility, said in plain words in every language.
REFUSALS = {
    "too_young": lambda e: _(
        "You must be at least %(age)s years old on the voting day to take part.",
        age=e.get("min_age"),
    ),
    "outside_area": lambda e: _(
        "This vote is for people who live in the area. Your postcode or town is not in it."
    ),
    "no_declaration": lambda e: _("You need to declare that you live, work or study in the area."),
    "bad_date": lambda e: _("The date of birth is not a real date."),
    "missing": lambda e: _("Some information is missing."),
}


def _flow(step=None):
    """The current flow's data, or None (flashing why) when it has ended."""
    data = current_flows().get(session.get("flow"))
    if data is None:
        if session.pop("flow", None):
            flash(_idle_message(), "info")
        return None
    if step is not None and data.get("step") not in step:
        return None
    return data


# A local path only: browsers drop tabs and newlines, so "/\t/host" would leave the kiosk.
_LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9_./?=&%-]*\Z")


def _idle_message():
    return _("The kiosk returned to the start after a time without activity. Nothing was recorded.")


def _safe_next(target):
    if target and _LOCAL_PATH.match(target):
        return target
    return url_for("resident.welcome")


def _render(template, **context):
    return render_template(template, flow_active=True, **context)


def _stand_open():
    try:
        return current_store().session().open
    except KioskError:
        return False


@bp.get("/")
def welcome():
    """Step 1: language choice, what the budget is, how long it takes."""
    election = current_store().election
    total = sum(s.budget for s in election.sections)
    return render_template(
        "resident/welcome.html",
        languages=languages(),
        total_budget=total,
        stand_open=_stand_open(),
        # A language or display choice left behind returns to French after a quiet while too.
        flow_active=any(key in session for key in ("lang", "text_size", "contrast")),
    )


@bp.post("/language")
def language():
    """Switch the interface language (kept in the session until the next reset)."""
    lang = request.form.get("lang")
    if lang not in languages():
        abort(400)
    session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/display")
def display():
    """Text-size and contrast switches, kept in the session (no JavaScript needed)."""
    if request.form.get("text_size") in ("normal", "large"):
        session["text_size"] = request.form["text_size"]
    if request.form.get("contrast") in ("normal", "high"):
        session["contrast"] = request.form["contrast"]
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/start")
def start():
    """Begin a resident's way through: a fresh flow, nothing carried over."""
    current_flows().drop(session.pop("flow", None))
    if not _stand_open():
        flash(_("The stand is closed. Please ask the agent."), "error")
        return redirect(url_for("resident.welcome"))
    session["flow"] = current_flows().new()
    current_flows().get(session["flow"])["step"] = "checkin"
    return redirect(url_for("resident.checkin"))


@bp.post("/reset")
def reset():
    """Wipe everything of this resident (end of the way through, cancel, or inactivity)."""
    current_flows().drop(session.get("flow"))
    session.clear()
    if request.form.get("reason") == "idle":
        flash(_idle_message(), "info")
    return redirect(url_for("resident.welcome"))


@bp.post("/keepalive")
def keepalive():
    """Activity seen by the page script: keep the flow alive (the server forgets idle flows)."""
    return ("", 204) if _flow() is not None else ("", 410)


@bp.route("/check-in", methods=["GET", "POST"])
def checkin():
    """Step 2: privacy notice, identity fields, eligibility checked on the device."""
    data = _flow(step=("checkin",))
    if data is None:
        return redirect(url_for("resident.welcome"))
    election = current_store().election
    eligibility = election.eligibility
    lang = current_lang()
    context = {
        "eligibility": eligibility,
        "declaration": election.text(eligibility.get("residence_declaration"), lang),
        "labels": forms.IDENTITY_LABELS,
        "hints": dict(forms.IDENTITY_HINTS, birth_date=forms.BIRTH_DATE_PARTS_HINT),
        "part_labels": forms.DATE_PART_LABELS,
    }
    if request.method == "GET":
        return _render("resident/checkin.html", values={}, parts={}, errors={}, **context)
    st = current_store()
    today = st.local(clock.now()).date()
    fields, declared, errors = forms.read_identity(request.form, eligibility, today=today)
    if errors:
        # The typed values go back into the page only, never into the flow state.
        parts = forms.date_parts(request.form)
        return _render(
            "resident/checkin.html",
            values=dict(fields, declaration=declared),
            parts=parts,
            errors=errors,
            **context,
        ), 422
    try:
        st.eligibility(dict(fields, declaration=declared), today=today)
        tag = st.tag_for(fields)
        if st.has_voted(tag):
            raise AlreadyVoted()
    except Ineligible as exc:
        return _refuse(_refusal_text(exc, eligibility))
    except AlreadyVoted:
        return _already_voted()
    # Only the voter tag stays in memory until the cast: the typed identity ends with this
    # request and is never written anywhere.
    data.update(step="ballot", tag=tag, selections={})
    return redirect(url_for("resident.section", index=0))


# Categories a section reserves money for, as the badge their projects carry.
CATEGORY_BADGES = {"jeunesse": _l("Youth")}


def badges(section):
    """{project id: badge text} for projects of a category the section reserves money for."""
    reserved = {r.get("category") for r in section.tally.get("reserved", ())}
    return {
        p["id"]: CATEGORY_BADGES.get(p.get("category"), p.get("category"))
        for p in section.projects
        if p.get("category") in reserved
    }


def _refusal_text(exc, eligibility):
    text = REFUSALS.get(exc.code)
    return text(eligibility) if text else _("You cannot take part in this vote here.")


def _refuse(reason, already=False):
    current_flows().drop(session.pop("flow", None))
    return _render("resident/refused.html", reason=reason, already=already), 403


def _already_voted():
    return _refuse(
        _("Each person votes once, so the kiosk cannot take a second vote from you."),
        already=True,
    )


@bp.route("/ballot/<int:index>", methods=["GET", "POST"])
def section(index):
    """Step 3: one section's ballot under its rule, with its counter; works without JavaScript."""
    data = _flow(step=("ballot", "review"))
    if data is None:
        return redirect(url_for("resident.welcome"))
    sections = current_store().election.sections
    if not 0 <= index < len(sections):
        abort(404)
    sec = sections[index]
    selection = data["selections"].get(sec.id, rules.blank(sec))
    problems, status = [], 200
    if request.method == "POST":
        selection = forms.read_selection(sec, request.form)
        data["selections"][sec.id] = selection
        action = request.form.get("action", "next")
        problems = forms.problems(sec, selection, money)
        if sec.ballot["type"] == "ranked" and forms.ranks_clash(sec, request.form):
            problems.insert(
                0, _("Two projects have the same rank. Give each project its own rank.")
            )
        if action == "back":
            return redirect(url_for("resident.section", index=max(index - 1, 0)))
        if action == "next" and not problems:
            if index + 1 >= len(sections) or data["step"] == "review":
                data["step"] = "review"
                return redirect(url_for("resident.review"))
            return redirect(url_for("resident.section", index=index + 1))
        if action != "next":
            problems = []  # a recount only: explain, do not scold
        status = 422 if problems else 200
    return _render(
        "resident/ballot.html",
        index=index,
        count=len(sections),
        section=sec,
        selection=selection,
        chosen=forms.chosen_ids(sec, selection),
        counter=forms.tally(sec, selection),
        over=bool(forms.problems(sec, selection, money)) and bool(selection),
        problems=problems,
        blank_ok=rules.blank_allowed(sec),
        returning=data["step"] == "review",
        badges=badges(sec),
    ), status


@bp.get("/review")
def review():
    """Step 4: every section's choices, to change or confirm."""
    data = _flow(step=("review",))
    if data is None:
        return redirect(url_for("resident.welcome"))
    return _render(
        "resident/review.html",
        sections=current_store().election.sections,
        selections=data["selections"],
    )


@bp.post("/confirm")
def confirm():
    """Commit the ballot through the store; only then show the receipt."""
    data = _flow(step=("review", "receipt"))
    if data is None:
        return redirect(url_for("resident.welcome"))
    if data["step"] == "receipt":
        return redirect(url_for("resident.receipt"))
    election = current_store().election
    selections = {s.id: data["selections"].get(s.id, rules.blank(s)) for s in election.sections}
    try:
        election.validate_selections(selections)
        # The record keeps the resident's language when the election has texts in it.
        lang = current_lang() if current_lang() in election.languages else election.languages[0]
        receipt = current_store().cast(
            selections,
            tag=data["tag"],
            lang=lang,
            now=clock.now(),
            clock=clock.source(),
        )
    except (SelectionError, Ineligible):
        flash(_("Some choices are not valid. Please check each section."), "error")
        return redirect(url_for("resident.section", index=0))
    except AlreadyVoted:
        return _already_voted()
    except StandClosed:
        return _refuse(_("The stand is closed. Please ask the agent."))
    except UrneError as exc:
        current_app.logger.error("cast failed: %s", exc)
        return _refuse(
            _("The kiosk could not record your vote. Nothing was recorded. Please ask the agent.")
        )
    # Forget the tag and the choices as soon as they are committed: only the receipt remains.
    data.clear()
    data.update(step="receipt", receipt=receipt.code)
    return redirect(url_for("resident.receipt"))


@bp.get("/receipt")
def receipt():
    """Step 5: the receipt code and its QR code; then back to the welcome screen."""
    data = _flow(step=("receipt",))
    if data is None:
        return redirect(url_for("resident.welcome"))
    return _render("resident/receipt.html", code=data["receipt"], qr=qr_svg(data["receipt"]))


def qr_svg(code):
    """The receipt code as an inline SVG QR code with an accessible name and no inline style."""
    svg = segno.make(code, error="m").svg_inline(
        scale=1, border=2, svgclass="qr-code", lineclass="qrline", omitsize=True
    )
    label = _("QR code of your receipt code %(code)s", code=code)
    # segno writes only path data from the code; the one value we add is escaped.
    named = svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(label)}" ', 1)
    return Markup(named)  # noqa: S704
