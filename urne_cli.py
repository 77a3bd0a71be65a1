"""The `urne` console script: the trust core's command groups start without importing Flask."""

import importlib
import sys

# Groups defined in sync/ that never need the web app: an auditor's `urne audit verify` or an
# organiser's `urne sync tally` skip Flask's import (about half a second per command). Each
# module defines its group under the group's own name.
CORE_GROUPS = {
    "audit": "sync.cli_audit",
    "authority": "sync.cli_authority",
    "election": "sync.cli_election",
    "sync": "sync.cli_sync",
    "tally": "sync.cli_tally",
}


def main():
    """Entry point of `urne`: a core group directly, everything else through Flask's FlaskGroup."""
    args = sys.argv[1:]
    if args and args[0] in CORE_GROUPS:
        return _core_group(args[0]).main(args=args[1:], prog_name=f"urne {args[0]}")
    import app

    return app.main()


def _core_group(name):
    return getattr(importlib.import_module(CORE_GROUPS[name]), name)


if __name__ == "__main__":
    main()
