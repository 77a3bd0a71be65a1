"""Plain-word texts of the kiosk's own state, in the page's language."""

from flask_babel import gettext as _

# Why the stand cannot open, by the kind kiosk._problem_kind() finds; the agent reads these.
PROBLEMS = {
    "not_set_up": lambda: _("This kiosk is not set up yet: it has no election or no enrolment."),
    "records": lambda: _(
        "The check of the stored votes failed: a vote record is missing or was changed."
    ),
    "database": lambda: _("The file that holds the votes is damaged or cannot be read."),
    "keys": lambda: _("A key file of this kiosk is missing or cannot be read."),
    "enrolment": lambda: _(
        "This kiosk's enrolment is not valid (withdrawn, or for another election)."
    ),
    "election": lambda: _("The election file on this kiosk is not valid."),
    "disk": lambda: _(
        "The kiosk cannot read or write its memory card (full, read-only or damaged)."
    ),
}


def problem_text(kind):
    """Why the stand cannot open, in plain words, for a kind of problem."""
    text = PROBLEMS.get(kind)
    return text() if text else _("The kiosk's stored data or set-up has a problem.")
