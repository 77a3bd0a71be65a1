"""Urne's trust core: records, signatures, bundles, merge, tally and audit (no Flask here)."""

FORMAT_VERSION = 1
