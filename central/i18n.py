"""The central's interface languages: its own catalogues, the language switch, money formats.

Public pages (results, receipt lookup, printable sheet) speak the kiosk's five languages, so a
resident who voted in Basque checks the receipt in Basque; organiser pages speak French and
English. French is the default. The catalogues live in central/translations/ (not the kiosk's):
    pybabel extract -F central/babel.cfg -k _l -o central/translations/messages.pot .
    pybabel update -i central/translations/messages.pot -d central/translations
    pybabel compile -d central/translations
"""

from pathlib import Path
from urllib.parse import urlencode

from babel.numbers import format_decimal
from flask import request, session
from flask_babel import Babel, get_locale

from web.languages import NATIVE_NAMES

TRANSLATIONS = Path(__file__).parent / "translations"
PUBLIC_LANGUAGES = ("fr", "en", "es", "eu", "oc")
ORGANISER_LANGUAGES = ("fr", "en")
ORGANISER_PREFIX = "/organisateur"


def offered():
    """The languages the current page is offered in."""
    return ORGANISER_LANGUAGES if request.path.startswith(ORGANISER_PREFIX) else PUBLIC_LANGUAGES


def remember_choice():
    """`?lang=xx` on any page stores the choice in the session (before_request hook)."""
    lang = request.args.get("lang")
    if lang in PUBLIC_LANGUAGES and session.get("lang") != lang:
        session["lang"] = lang


def select_locale():
    """The visitor's chosen language when this page has it, else French."""
    lang = request.args.get("lang") or session.get("lang")
    return lang if lang in offered() else "fr"


def current_lang():
    """The language of the page being drawn, as a short code."""
    return str(get_locale() or "fr")


def euros(amount, lang=None):
    """An amount in euros written the way the language writes it (cents only when not whole)."""
    lang = lang or current_lang()
    value = float(amount) if not isinstance(amount, int) else amount
    pattern = "#,##0" if int(value) == value else "#,##0.00"
    # Occitan is written in France: French grouping (Babel's "oc" data groups with commas).
    number = format_decimal(value, format=pattern, locale="fr" if lang == "oc" else lang)
    # A no-break space keeps the number and its sign on one line at 200 % zoom.
    return f"€{number}" if lang == "en" else f"{number}\u00a0€"


def switch_links():
    """(code, native name, URL of this page in that language, current?) for the switch."""
    args = request.args.to_dict()
    out = []
    for code in offered():
        args["lang"] = code
        url = f"{request.path}?{urlencode(sorted(args.items()))}"
        out.append((code, NATIVE_NAMES[code], url, code == current_lang()))
    return out


def init_app(app):
    """Flask-Babel on the central's own catalogue folder, French by default."""
    app.config["BABEL_DEFAULT_LOCALE"] = "fr"
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=select_locale)
    app.before_request(remember_choice)
    app.jinja_env.filters["euros"] = euros
    app.jinja_env.globals.update(current_lang=current_lang, language_links=switch_links)
