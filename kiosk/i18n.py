"""Interface languages: Flask-Babel set-up, the resident's choice, names and money formats."""

import re
from pathlib import Path

from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol
from flask import current_app, session
from flask_babel import Babel, get_locale

from web.languages import NATIVE_NAMES

TRANSLATIONS = Path(__file__).parent / "translations"


def languages():
    """Interface languages offered, French first."""
    return list(current_app.config["LANGUAGES"])


def select_locale():
    """The resident's chosen language, else French."""
    lang = session.get("lang")
    return lang if lang in languages() else languages()[0]


def current_lang():
    """The language of the page being drawn, as a short code."""
    return str(get_locale() or languages()[0])


def _number_locale(lang):
    # Occitan is written in France: French grouping (Babel's "oc" data groups with commas).
    return "fr" if lang == "oc" else lang


def money_format(lang=None):
    """How money() writes amounts in a language: group and decimal signs, and where € goes.

    The ballot page hands these to its script, so the live counter writes amounts exactly as
    the server does (a browser's Intl data may lack a language, e.g. Basque in Debian's Chromium).
    """
    lang = lang or current_lang()
    locale = _number_locale(lang)
    # A no-break space keeps the number and its sign on one line at 200 % zoom.
    return {
        "group": get_group_symbol(locale),
        "decimal": get_decimal_symbol(locale),
        "template": "€{n}" if lang == "en" else "{n}\u00a0€",
    }


def money(amount, lang=None):
    """An amount in euros written the way the language writes it (cents only when not whole)."""
    lang = lang or current_lang()
    pattern = "#,##0" if int(amount) == amount else "#,##0.00"
    number = format_decimal(amount, format=pattern, locale=_number_locale(lang))
    return money_format(lang)["template"].replace("{n}", number)


def paragraphs(text):
    """Paragraphs of a hard-wrapped text of the election (a line without end mark is a title)."""
    out, lines = [], []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            out, lines = _flush(out, lines)
            continue
        if lines and not _ENDS.search(lines[-1]) and line[:1].isupper():
            out, lines = _flush(out, lines)
        lines.append(line)
    return _flush(out, lines)[0]


_ENDS = re.compile(r"[.,;:!?)»\]-]\Z")


def _flush(out, lines):
    if lines:
        out.append(" ".join(lines))
    return out, []


def init_app(app):
    """Set up Flask-Babel on the kiosk's own catalogues."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "fr")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        native_names=NATIVE_NAMES, money=money, money_format=money_format, current_lang=current_lang
    )
    app.jinja_env.filters["paragraphs"] = paragraphs
