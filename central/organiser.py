"""Organiser pages: login, stands and their chains, import log, duplicate groups, turnout, publish."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from central.charts import Bar, bar_chart
from central.security import client_key, limits, log_in, organiser_required
from sync.errors import UrneError

REQUIRED = _l("This field is required.")
TOO_LONG = _l("Text too long.")
bp = Blueprint("central_organiser", __name__, url_prefix="/organisateur")
NONE = "aucun"  # the radio value meaning "count none of these ballots"


class LoginForm(FlaskForm):
    """The organiser password."""

    password = PasswordField(_l("Organiser password"), validators=[DataRequired(REQUIRED)],
                             render_kw={"autocomplete": "current-password"})  # fmt: skip


class ActionForm(FlaskForm):
    """A button-only form (publish, refresh, log out): CSRF token alone."""


class DecisionForm(FlaskForm):
    """An organiser's decision on one held group of ballots."""

    keep = RadioField(_l("Ballot to count"), validators=[DataRequired(REQUIRED)], choices=[])
    reason = TextAreaField(
        _l("Reason for the decision"),
        validators=[DataRequired(REQUIRED), Length(max=500, message=TOO_LONG)],
    )
    by = StringField(_l("Your name"), validators=[DataRequired(REQUIRED), Length(max=100, message=TOO_LONG)],
                     render_kw={"autocomplete": "name"})  # fmt: skip


def _web():
    from central import web

    return web()


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    """Log the organiser in (scrypt hash from `urne central init`; lockout after failures)."""
    from central.security import check_password

    form = LoginForm()
    lockout, who = limits().lockout, client_key()
    if form.validate_on_submit():
        if lockout.locked(who):
            flash(_("Too many failed attempts: try again in 15 minutes."), "error")
            return render_template("central/login.html", form=form), 429
        try:
            good = check_password(_web().home, form.password.data)
        except UrneError:
            good = False
        if good:
            lockout.success(who)
            log_in()
            target = request.args.get("next", "")
            # Only a local path: never an open redirect to another site.
            if not target.startswith("/organisateur") or "//" in target:
                target = url_for("central_organiser.dashboard")
            return redirect(target)
        lockout.failure(who)
        flash(_("Wrong password."), "error")
        return render_template("central/login.html", form=form), 401
    return render_template("central/login.html", form=form)


@bp.post("/deconnexion")
def logout():
    """End the organiser session."""
    from central.security import log_out

    if ActionForm().validate_on_submit():
        log_out()
    return redirect(url_for("central_public.results"))


@bp.get("/")
@organiser_required
def dashboard():
    """Figures at a glance and the publish button."""
    from central import store
    from central.snapshot import load_snapshot

    s = store()
    devices = s.devices()
    counts = {
        "devices": len(devices),
        "ballots": sum(d["ballots"] for d in devices),
        "problems": sum(d["state"] != "complete" for d in devices),
    }
    snap = load_snapshot(_web().home)
    return render_template(
        "central/dashboard.html", counts=counts, form=ActionForm(),
        published=snap.data["published_at"] if snap else None,
    )  # fmt: skip


@bp.get("/stands")
@organiser_required
def devices():
    """Every stand (device and epoch): certificate, last sync, ballots, chain state."""
    from central import store

    return render_template("central/devices.html", devices=store().devices())


@bp.get("/imports")
@organiser_required
def imports():
    """The import log, newest first."""
    from central import store

    return render_template("central/imports.html", log=store().import_log(limit=500))


def _held_groups(central):
    """(group id, members with stand, channel and time) of every group still held."""
    from sync.groups import adjudication_bodies, current_groups
    from sync.results import resolve_all

    body = current_groups(central.store, central.election)
    if body is None:
        return []
    ballots, _voided, res = resolve_all(
        central.election, central.store.records(), groups=body,
        adjudications=adjudication_bodies(central.store, central.election),
    )  # fmt: skip
    online = {o["id"]: o["time"] for o in body.get("online", [])}
    out = []
    for g in body["groups"]:
        if g["id"] not in res.held_groups:
            continue
        members = []
        for i in g["members"]:
            if i in online:
                members.append({"id": i, "stand": "—", "channel": "online", "time": online[i]})
            else:
                b = ballots[i]
                members.append(
                    {"id": i, "stand": b.device, "channel": b.channel, "time": b.order[0]}
                )
        out.append((g["id"], members))
    return out


def _decision_form(gid, members):
    form = DecisionForm(prefix=f"g{gid[:16]}")
    channels = {"kiosk": _("kiosk"), "paper": _("paper"), "online": _("online")}
    form.keep.choices = [
        (m["id"], _("Ballot %(id)s — stand %(stand)s, %(channel)s, %(time)s", id=m["id"][:12], stand=m["stand"],
                    channel=channels.get(m["channel"], m["channel"]), time=m["time"].replace("T", " ")))
        for m in members
    ] + [(NONE, _("None of these ballots counts"))]  # fmt: skip
    return form


@bp.get("/doublons")
@organiser_required
def groups():
    """Held duplicate groups, each with a decision form (never showing anyone's choices)."""
    from central import central

    c = central()
    held = [(gid, members, _decision_form(gid, members)) for gid, members in _held_groups(c)]
    return render_template(
        "central/groups.html", held=held, form=ActionForm(), purged=bool(c.store.meta("purged"))
    )


@bp.post("/doublons/actualiser")
@organiser_required
def refresh():
    """Open new voter tags and re-sign the duplicate groups."""
    from central import central
    from sync.groups import central_key, refresh_groups, signing_key

    if ActionForm().validate_on_submit():
        c = central()
        if c.store.meta("purged"):
            # The tag-opening key is gone: say so in the page's language, not the library's.
            flash(_("The voter data was purged: the groups can no longer be updated."), "error")
            return redirect(url_for("central_organiser.groups"))
        try:
            body = refresh_groups(
                c.store, c.election, central_key(c.home), signing_key(c.home), now=_web().now()
            )
        except UrneError as exc:
            flash(_("Could not update the groups: %(error)s", error=str(exc)), "error")
        else:
            flash(
                _("Groups updated: %(n)d group(s) of duplicates.", n=len(body["groups"])),
                "status",
            )
    return redirect(url_for("central_organiser.groups"))


@bp.post("/doublons/<gid>")
@organiser_required
def decide(gid):
    """Record a signed decision on one held group (sync.groups.adjudicate)."""
    from central import central
    from sync.groups import adjudicate, signing_key

    c = central()
    found = dict(_held_groups(c)).get(gid)
    if found is None:
        flash(_("This group no longer awaits a decision."), "error")
        return redirect(url_for("central_organiser.groups"))
    form = _decision_form(gid, found)
    if not form.validate_on_submit():
        held = [(g, m, form if g == gid else _decision_form(g, m)) for g, m in _held_groups(c)]
        purged = bool(c.store.meta("purged"))
        page = render_template("central/groups.html", held=held, form=ActionForm(), purged=purged)
        return page, 400
    keep = [] if form.keep.data == NONE else [form.keep.data]
    try:
        adjudicate(c.store, c.election, signing_key(c.home), gid, keep, reason=form.reason.data,
                   by=form.by.data.strip(), now=_web().now())  # fmt: skip
    except UrneError as exc:
        flash(_("Decision refused: %(error)s", error=str(exc)), "error")
        return redirect(url_for("central_organiser.groups"))
    flash(_("Decision signed and recorded."), "status")
    return redirect(url_for("central_organiser.groups"))


def turnout(store):
    """Ballots received (not voided) per stand, per day and per hour of the stands' clocks."""
    rows = store.conn.execute(
        "SELECT device, substr(time, 1, 10), substr(time, 12, 2), count(*) FROM records"
        " WHERE kind = 'ballot' AND ballot NOT IN"
        " (SELECT ballot FROM records WHERE kind = 'void' AND ballot IS NOT NULL)"
        " GROUP BY 1, 2, 3"
    ).fetchall()
    out = {"stands": {}, "days": {}, "hours": {}}
    for device, day, hour, n in rows:
        for key, label in (("stands", device), ("days", day), ("hours", f"{hour} h")):
            out[key][label] = out[key].get(label, 0) + n
    return {k: sorted(v.items()) for k, v in out.items()}


@bp.get("/participation")
@organiser_required
def participation():
    """Turnout per stand, per day and per hour: SVG charts with their data tables."""
    from central import store

    data = turnout(store())
    titles = {"stands": _("By stand"), "days": _("By day"), "hours": _("By hour")}
    blocks = [
        {"id": k, "title": titles[k], "rows": rows,
         "chart": bar_chart([Bar(label, n) for label, n in rows],
                            title=_("Ballots received, %(what)s", what=titles[k].lower()), chart_id=f"turnout-{k}")}
        for k, rows in data.items()
    ]  # fmt: skip
    return render_template("central/turnout.html", blocks=blocks)


@bp.post("/publier")
@organiser_required
def publish():
    """Tally and publish the results (public pages, downloads, receipt lookup)."""
    from central import central
    from central.snapshot import publish_results

    if ActionForm().validate_on_submit():
        try:
            publish_results(central(), now=_web().now())
        except UrneError as exc:
            flash(_("Could not publish: %(error)s", error=str(exc)), "error")
        else:
            flash(_("Results published."), "status")
    return redirect(url_for("central_organiser.dashboard"))
