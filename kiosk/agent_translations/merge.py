"""Fold the agent pages' French into the kiosk catalogue (run once by whoever owns the catalogues).

Babel's Catalog keeps an existing entry's empty or fuzzy string when another is assigned, so this
sets the strings one by one. Usage, from the repository root:

    python3 kiosk/agent_translations/merge.py kiosk/translations/fr/LC_MESSAGES/messages.po
    pybabel compile -d kiosk/translations
"""

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).parent


def _empty(string):
    return not (string if isinstance(string, str) else any(string))


def merge(target, source=HERE / "fr.po"):
    """Copy source's translations into target's missing, empty or fuzzy ones; return how many."""
    with open(target, "rb") as f:
        base = read_po(f, locale="fr")
    with open(source, "rb") as f:
        mine = read_po(f, locale="fr")
    changed = 0
    for message in mine:
        if not message.id:
            continue
        current = base.get(message.id)
        if current is None:
            base[message.id] = message
        elif _empty(current.string) or current.fuzzy:
            current.string = message.string
            current.flags.discard("fuzzy")
        else:
            continue
        changed += 1
    with open(target, "wb") as f:
        write_po(f, base, width=100)
    return changed


if __name__ == "__main__":
    print(f"{merge(sys.argv[1])} agent strings merged into {sys.argv[1]}")
