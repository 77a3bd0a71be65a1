"""The `urne` console script: the trust core's command groups start without importing Flask."""

import sys

# Groups defined in sync/ that never need the web app: an auditor's `urne audit verify` or an
# organiser's `urne sync tally` skip Flask's import (about half a second per command).
CORE_GROUPS = ("audit", "authority", "election", "sync", "tally")


def main():
    """Entry point of `urne`: a core group directly, everything else through Flask's FlaskGroup."""
    args = sys.argv[1:]
    if args and args[0] in CORE_GROUPS:
        return _core_group(args[0]).main(args=args[1:], prog_name=f"urne {args[0]}")
    import app

    return app.main()


def _core_group(name):
    if name == "audit":
        from sync.cli_audit import audit as group
    elif name == "authority":
        from sync.cli_authority import authority as group
    elif name == "election":
        from sync.cli_election import election as group
    elif name == "sync":
        from sync.cli_sync import sync as group
    else:
        from sync.cli_tally import tally as group
    return group


if __name__ == "__main__":
    main()
