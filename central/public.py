"""Public, read-only pages: results (chart + table), downloads, printable sheet, receipt lookup."""

import csv
import io

from flask import Blueprint, Response, abort, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from central.charts import Bar, bar_chart
from central.i18n import current_lang
from central.snapshot import PUBLISHED, load_snapshot, receipt_state
from sync.errors import RecordError
from sync.tags import parse_receipt_code

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Text too long.")
bp = Blueprint("central_public", __name__)

RULE_NAMES = {
    "greedy": _l("Most votes first (greedy)"),
    "greedy-no-skip": _l("Most votes first, stopping at the first that does not fit"),
    "greedy-threshold": _l("Most votes first, with a minimum score"),
    "equalshares": _l("Method of Equal Shares"),
    "equalshares/add1": _l("Method of Equal Shares (completed)"),
    "equalshares/add1-comparison": _l(
        "Method of Equal Shares (completed, compared with most votes first)"
    ),
}
# One sentence per rule family, for residents who wonder how the funded projects were chosen.
GREEDY_HELP = _l(
    "Projects are taken in order of votes; each one is funded if it still fits in the remaining budget."
)
RULE_HELP = {
    "greedy": GREEDY_HELP,
    "greedy-no-skip": _l("Projects are taken in order of votes and funded until the first one that no longer fits in the remaining budget."),
    "greedy-threshold": _l("Projects are taken in order of votes among those that reach the minimum score; each one is funded if it still fits in the remaining budget."),
    "equalshares": _l("The budget is shared equally among the voters; a project is funded when its supporters can pay for it together from their shares, the cheapest per supporter first."),
}  # fmt: skip
RULE_HELP["equalshares/add1"] = RULE_HELP["equalshares/add1-comparison"] = _l(
    "The budget is shared equally among the voters; a project is funded when its supporters can pay for it together from their shares, the cheapest per supporter first. The shares are then raised step by step while the budget allows, so that as little as possible is left unspent."
)
CHANNELS = {"kiosk": _l("Kiosk"), "paper": _l("Paper"), "online": _l("Online")}


class ReceiptForm(FlaskForm):
    """The receipt code typed by a resident."""

    code = StringField(
        _l("Receipt code"),
        validators=[DataRequired(REQUIRED), Length(max=40, message=TOO_LONG)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


def _web():
    from central import web

    return web()


def _sections(snap):
    """What the results page shows per section: rows, chart, outcomes side by side, ties."""
    election = _web().election
    out = []
    for sec in snap.data["result"]["sections"]:
        section = election.section(sec["id"])
        funded = set(sec["selected"])
        rows = []
        for p in sorted(section.projects, key=lambda p: (-sec["votes"][p["id"]], p["id"])):
            rows.append(
                {
                    "id": p["id"],
                    "title": election.text(p["title"], current_lang()),
                    "votes": sec["votes"][p["id"]],
                    "score": (sec.get("score") or {}).get(p["id"]),
                    "cost": p["cost"],
                    "funded": p["id"] in funded,
                    "by_rule": [p["id"] in r["selected"] for r in sec["results"]],
                }
            )
        bars = [
            Bar(r["id"], r["votes"], "funded" if r["funded"] else "other",
                f"{r['votes']}{' ✓' if r['funded'] else ''}")
            for r in rows
        ]  # fmt: skip
        title = election.text(section.title, current_lang())
        out.append(
            {
                "id": sec["id"],
                "title": title,
                "rule": RULE_NAMES.get(sec["rule"], sec["rule"]),
                "rule_help": RULE_HELP.get(sec["rule"]),
                "budget": sec["budget"],
                "spent": sec["spent"],
                "rows": rows,
                "rules": [RULE_NAMES.get(r["rule"], r["rule"]) for r in sec["results"]],
                "outcomes": sec["results"],
                "ties": snap.data["ties"].get(sec["id"], {}),
                "chart": bar_chart(
                    bars,
                    title=_("Votes per project: %(title)s", title=title),
                    chart_id=f"chart-{sec['id']}",
                ),
            }
        )
    return out


def _participation(snap):
    p = snap.data["participation"]
    tables = [
        (
            "channels",
            _("By channel"),
            [(CHANNELS.get(k, k), v) for k, v in sorted(p["channels"].items())],
        ),
        ("stands", _("By stand"), sorted(p["stands"].items())),
        ("days", _("By day"), sorted(p["days"].items())),
    ]
    return [
        {
            "id": key,
            "title": title,
            "rows": rows,
            "chart": bar_chart(
                [Bar(k, v) for k, v in rows],
                title=_("Participation, %(what)s", what=title.lower()),
                chart_id=f"part-{key}",
            ),
        }
        for key, title, rows in tables
    ]


def _context():
    snap = load_snapshot(_web().home)
    if snap is None:
        return None
    return {
        "snap": snap.data,
        "sections": _sections(snap),
        "participation": _participation(snap),
        "ballots": snap.data["result"]["ballots"],
        "rule_names": RULE_NAMES,
    }


@bp.get("/")
def index():
    """The home page is the results page."""
    return redirect(url_for("central_public.results"))


@bp.get("/resultats")
def results():
    """Per section: funded projects, votes, cost, budget used, chart and table; participation."""
    ctx = _context()
    if ctx is None:
        return render_template("central/results_pending.html")
    return render_template("central/results.html", **ctx)


@bp.get("/resultats/feuille")
def sheet():
    """The printable results sheet (print stylesheet, no chart)."""
    ctx = _context()
    if ctx is None:
        abort(404)
    return render_template("central/sheet.html", **ctx)


@bp.get("/resultats.json")
def results_json():
    """The published tally JSON, byte for byte (as `urne sync tally --json`)."""
    return _published_file("result.json", "application/json")


@bp.get("/resultats/<section_id>.pb")
def results_pb(section_id):
    """A section's Pabulib file (anonymous voters in canonical order, META naming the rule)."""
    if section_id not in {s.id for s in _web().election.sections}:
        abort(404)
    return _published_file(f"{section_id}.pb", "text/plain; charset=utf-8")


@bp.get("/resultats.csv")
def results_csv():
    """One line per project and rule: section, project, title, cost, votes, funded."""
    snap = load_snapshot(_web().home)
    if snap is None:
        abort(404)
    election = _web().election
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["section", "rule", "project", "title", "cost", "votes", "score", "funded"])
    for sec in snap.data["result"]["sections"]:
        section = election.section(sec["id"])
        for r in sec["results"]:
            chosen = set(r["selected"])
            for p in section.projects:
                w.writerow(
                    [sec["id"], r["rule"], p["id"], election.text(p["title"], "fr"), p["cost"],
                     sec["votes"][p["id"]], (sec.get("score") or {}).get(p["id"], ""),
                     int(p["id"] in chosen)]
                )  # fmt: skip
    return Response(
        buf.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=resultats.csv"},
    )


def _published_file(name, mimetype):
    path = _web().home / PUBLISHED / name
    if load_snapshot(_web().home) is None or not path.is_file():
        abort(404)
    return send_file(path, mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)


@bp.route("/recu", methods=["GET", "POST"])
def receipt():
    """Say whether a receipt code's ballot is counted, pending review or not found; never its choices."""
    from central import store
    from central.security import client_key, limits

    form = ReceiptForm()
    state, code = None, None
    if form.validate_on_submit():
        if not limits().receipt_limit.allow(client_key()):
            return render_template("central/receipt.html", form=form, state="limited"), 429
        try:
            code = parse_receipt_code(form.code.data)
        except RecordError:
            form.code.errors.append(
                _("This is not a receipt code: 10 letters or digits, for example 7K2QD-M9XHT.")
            )
        else:
            state = receipt_state(_web().home, store(), code)
    status = 400 if request.method == "POST" and form.errors else 200
    return render_template("central/receipt.html", form=form, state=state, code=code), status
