"""Agent mode: PIN login, open and close the stand, status, void, paper entry, export, sync."""

from datetime import datetime

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext

from kiosk import agent_forms, agent_paper, clock, current_flows, current_store, usb
from kiosk import push as pushing
from kiosk.agent_texts import (
    export_error,
    pin_locked_text,
    size,
    sync_text,
    void_refused,
    wrong_pin_text,
)
from kiosk.errors import (
    ExportError,
    KioskError,
    NothingToExport,
    PinLocked,
    SessionError,
    StandClosed,
    VoidRefused,
    WrongPin,
)
from kiosk.status import check_is_stale, checked_local
from sync.errors import KeyFileError, UrneError

bp = Blueprint("agent", __name__, url_prefix="/agent")

SESSION_KEY = "agent_until"
RESULT_KEY = "agent_result"
PUBLIC = {"agent.login"}
IDLE_SECONDS = 300


def _idle():
    return int(current_app.config.get("AGENT_IDLE_SECONDS", IDLE_SECONDS))


@bp.before_request
def _require_agent():
    """Every agent page but the login needs a live agent session; each request extends it."""
    if request.endpoint in PUBLIC:
        return None
    moment = clock.system_now().timestamp()
    until = session.get(SESSION_KEY)
    if not until or until < moment:
        if session.pop(SESSION_KEY, None):
            flash(_("Agent mode ended after a time without activity. Enter the PIN again."), "info")
        return redirect(url_for("agent.login"))
    session[SESSION_KEY] = moment + _idle()
    return None


def _render(template, http_status=200, /, **context):
    patterns = {"date_pattern": agent_forms.DATE_PATTERN, "time_pattern": agent_forms.TIME_PATTERN}
    return render_template(template, size=size, **patterns, **context), http_status


def _result(kind, **values):
    """Keep an action's outcome for the page the browser is redirected to (post, then get)."""
    session[RESULT_KEY] = dict(values, kind=kind)
    return redirect(url_for(f"agent.{kind}"))


def _take_result(kind):
    result = session.get(RESULT_KEY)
    return result if result and result.get("kind") == kind else None


# Login -------------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The PIN form; wrong tries lead to a lockout whose length the page says."""
    if request.method == "GET":
        return _render("agent/login.html")
    pin = request.form.get("pin", "")
    store, now = current_store(), clock.system_now()
    locked_before = _pin_locked(store, now)
    try:
        store.verify_pin(pin, now=now)
    except PinLocked as exc:
        error = pin_locked_text(exc.retry_after, wrong=not locked_before)
        return _render("agent/login.html", 429, error=error)
    except WrongPin as exc:
        return _render("agent/login.html", 403, error=wrong_pin_text(exc.remaining))
    except KeyFileError:
        error = _("No agent PIN is set on this kiosk: call the support line.")
        return _render("agent/login.html", 503, error=error)
    # A resident's unfinished way through ends here: the agent must not see it. Its language
    # goes too, so agent mode opens in the stand's first language (French).
    current_flows().drop(session.pop("flow", None))
    session.pop("lang", None)
    session.pop(RESULT_KEY, None)
    session[SESSION_KEY] = clock.system_now().timestamp() + _idle()
    return redirect(url_for("agent.home"))


def _pin_locked(store, now):
    """Whether a lockout runs at `now`, so that a refusal did not check the PIN typed."""
    row = store.db.conn.execute("SELECT locked_until FROM pin_state WHERE one = 1").fetchone()
    return bool(row and row[0]) and now < datetime.fromisoformat(row[0])


@bp.post("/logout")
def logout():
    """Leave agent mode and go back to the residents' welcome screen."""
    session.pop(SESSION_KEY, None)
    session.pop(RESULT_KEY, None)
    flash(_("You left agent mode."), "ok")
    return redirect(url_for("resident.welcome"))


# Status ------------------------------------------------------------------------------------


@bp.get("/")
def home():
    """The stand's status: one clear state and one main button."""
    store = current_store()
    now = clock.now()
    local = store.local(now)
    window = store.election.window
    status = store.status(now)
    chain_failed = None
    if check_is_stale(status):
        # The check made at start-up covers only what was there then, and had no time: re-run
        # it (bench/kiosk_check.py: about 0.25 ms a record) so the line says what it covered.
        try:
            store.check(now=now)
        except UrneError as exc:
            current_app.logger.error("chain check failed: %s", exc)
            chain_failed = str(exc)
        status = store.status(now)
    return _render(
        "agent/home.html",
        status=status,
        chain_failed=chain_failed,
        checked_at=checked_local(store, status.chain),
        local=local,
        clock_confirmed=clock.confirmed(),
        in_window=window["opens"] <= local.date().isoformat() <= window["closes"],
        window=window,
        central=bool(current_app.config.get("CENTRAL_URL")),
        pairing_on=bool(current_app.config.get("PAIRING_REQUIRED")),
        group=agent_forms.group_hash,
    )


@bp.post("/check")
def check():
    """Re-run the database integrity check and the whole chain verification now."""
    try:
        report = current_store().check(now=clock.now())
    except UrneError as exc:
        current_app.logger.error("chain check failed: %s", exc)
        flash(
            _(
                "The check FAILED: %(why)s. Stop taking votes and call the support line.",
                why=str(exc),
            ),
            "error",
        )
    else:
        flash(
            ngettext(
                "Check passed: %(num)s record verified.",
                "Check passed: %(num)s records verified.",
                report.records,
            ),
            "ok",
        )
    return redirect(url_for("agent.home"))


# Clock and session -------------------------------------------------------------------------


def _clock_form(template, action):
    """Show, then read, the date and time the agent confirms or corrects."""
    store = current_store()
    now = clock.now()
    shown = agent_forms.local_fields(now, store.tz)
    if not agent_forms.plausible(now):
        shown = ("", "")  # a clock this wrong must be typed, not confirmed
    if request.method == "GET":
        return None, _render(template, date=shown[0], time=shown[1], shown=shown, errors={})
    typed = (request.form.get("date", ""), request.form.get("time", ""))
    try:
        agent_time = agent_forms.parse_clock(*typed, store.tz)
    except agent_forms.FormError as exc:
        errors = {exc.field: _("Write the date like 2026-05-16 and the time like 09:30.")}
        return None, _render(
            template, 422, date=typed[0], time=typed[1], shown=shown, errors=errors
        )
    if typed == (request.form.get("shown_date"), request.form.get("shown_time")) and all(typed):
        clock.confirm(clock.system_now() + clock.offset())  # as shown: no correction
    else:
        clock.confirm(agent_time)
    return action(), None


@bp.route("/clock", methods=["GET", "POST"])
def set_clock():
    """Confirm or correct the date and time without opening the stand."""
    result, page = _clock_form("agent/clock.html", lambda: None)
    if page is not None:
        return page
    flash(_("Date and time confirmed."), "ok")
    return redirect(url_for("agent.home"))


@bp.route("/open", methods=["GET", "POST"])
def open_stand():
    """Open the stand: the agent confirms the date and time; a `session_open` record."""
    if current_store().session().open and request.method == "GET":
        flash(_("The stand is already open."), "info")
        return redirect(url_for("agent.home"))

    def action():
        return current_store().open_session(clock.now(), clock=clock.source())

    try:
        result, page = _clock_form("agent/open.html", action)
    except SessionError:
        flash(_("The stand is already open."), "info")
        return redirect(url_for("agent.home"))
    if page is not None:
        return page
    flash(_("The stand is open. Residents can vote."), "ok")
    return redirect(url_for("agent.home"))


@bp.route("/close", methods=["GET", "POST"])
def close_stand():
    """Close the stand: a `session_close` record, then the count and head hash to copy."""
    store = current_store()
    state = store.session()
    if not state.open:
        flash(_("The stand is not open."), "info")
        return redirect(url_for("agent.home"))
    if request.method == "GET":
        return _render("agent/close.html", state=state)
    local = store.local(clock.now())
    try:
        count, head = store.close_session(clock.now(), clock=clock.source())
    except SessionError:
        flash(_("The stand is not open."), "info")
        return redirect(url_for("agent.home"))
    total = store.status(clock.now()).ballots_total
    return _result(
        "closed", count=count, total=total, head=head, at=local.strftime("%Y-%m-%d %H:%M")
    )


@bp.get("/closed")
def closed():
    """What to copy onto the stand's paper sheet after closing."""
    result = _take_result("closed")
    if result is None:
        return redirect(url_for("agent.home"))
    return _render(
        "agent/closed.html", result=result, grouped=agent_forms.group_hash(result["head"])
    )


# Void --------------------------------------------------------------------------------------


@bp.route("/void", methods=["GET", "POST"])
def void():
    """Void the last ballot at the resident's request, within the window, with a reason."""
    window = int(current_app.config["VOID_WINDOW_SECONDS"])
    context = {"minutes": max(1, window // 60)}
    if request.method == "GET":
        return _render("agent/void.html", reason="", errors={}, **context)
    text = request.form.get("reason", "")
    try:
        reason = agent_forms.parse_reason(text)
        current_store().void_last(reason, now=clock.now(), window_seconds=window)
    except agent_forms.FormError:
        errors = {"reason": _("Write the reason in a few words (3 to 200 characters).")}
        return _render("agent/void.html", 422, reason=text, errors=errors, **context)
    except (VoidRefused, StandClosed) as exc:
        return _render(
            "agent/void.html", 409, reason=text, errors={}, refused=void_refused(exc), **context
        )
    flash(_("The last ballot is void. The resident may vote again."), "ok")
    return redirect(url_for("agent.home"))


# Paper entry (kiosk/agent_paper.py) -------------------------------------------------------

bp.add_url_rule("/paper", "paper", agent_paper.paper, methods=["GET", "POST"])


# Export and sync ---------------------------------------------------------------------------


def _drives():
    return usb.removable_drives(configured=current_app.config.get("EXPORT_DIR"))


@bp.route("/export", methods=["GET", "POST"])
def export():
    """Pick a drive; write the bundle atomically, read it back, verify it; count and head."""
    drives = _drives()
    context = {"drives": drives, "central": bool(current_app.config.get("CENTRAL_URL"))}
    if request.method == "GET":
        return _render("agent/export.html", errors={}, **context)
    whole = request.form.get("all") == "yes"
    try:
        drive = agent_forms.pick_drive(drives, request.form.get("drive", ""))
        path, count, head = current_store().export(drive.path, all=whole, now=clock.now())
    except agent_forms.FormError as exc:
        message = (
            _("This drive cannot be written to. Check that it is not locked, or pick another.")
            if "writable" in str(exc)
            else _("Pick one of the drives listed.")
        )
        return _render("agent/export.html", 422, errors={"drive": message}, **context)
    except NothingToExport:
        return _render("agent/export.html", 409, errors={}, nothing=True, **context)
    except (ExportError, KioskError) as exc:
        current_app.logger.error("export failed: %s", exc)
        return _render("agent/export.html", 500, errors={}, failed=export_error(exc), **context)
    return _result(
        "exported",
        count=count,
        head=head,
        file=path.name,
        drive=drive.label,
        whole=whole,
    )


@bp.get("/exported")
def exported():
    """The export's outcome: where, how many records, the head hash."""
    result = _take_result("exported")
    if result is None:
        return redirect(url_for("agent.home"))
    return _render(
        "agent/exported.html", result=result, grouped=agent_forms.group_hash(result["head"])
    )


@bp.route("/sync", methods=["GET", "POST"])
def sync():
    """Sync now: send every record to the central and say its answer in plain words."""
    url = current_app.config.get("CENTRAL_URL")
    if request.method == "GET":
        result = _take_result("sync")
        if result is None:
            return redirect(url_for("agent.home"))
        return _render("agent/sync.html", result=result)
    if not url:
        flash(_("No central server is configured: export to a USB drive."), "error")
        return redirect(url_for("agent.export"))
    try:
        answer, count, head = pushing.sync_now(current_store(), url, now=clock.now)
    except (pushing.SyncError, NothingToExport, ExportError) as exc:
        current_app.logger.warning("sync failed: %s", exc)
        ok, message = False, sync_text(exc)
        count = head = None
    else:
        ok, message = True, sync_text(answer)
    return _result("sync", ok=ok, message=message, count=count, head=head)


# Pairing -----------------------------------------------------------------------------------


@bp.post("/pair")
def pair():
    """Show a one-time code and QR code to pair a tablet with this kiosk."""
    from kiosk import pairing as pairing_module

    offer = pairing_module.new_pairing(current_app._get_current_object(), clock.system_now())
    return _render(
        "agent/pair.html",
        pairing=offer,
        paired=pairing_module.paired_count(current_app._get_current_object()),
    )


@bp.post("/unpair")
def unpair():
    """Unpair every tablet (one was lost or stolen)."""
    from kiosk import pairing as pairing_module

    count = pairing_module.revoke_all(current_app._get_current_object(), clock.system_now())
    flash(ngettext("%(num)s tablet unpaired.", "%(num)s tablets unpaired.", count), "ok")
    return redirect(url_for("agent.home"))
