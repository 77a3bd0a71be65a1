"""A new election source from a Pabulib .pb file: its projects, budget and ballot rule as TOML."""

import datetime
import json
import math
import re
import tomllib
from pathlib import Path

from .election_source import validate_source
from .tally.pabulib import pb_to_source, read_pb

TODO = "À compléter"
RULES = ("greedy", "greedy-no-skip", "greedy-threshold", "equalshares", "equalshares/add1")


def _ballot(pb, n_projects):
    """The Urne ballot rule closest to the .pb's vote type and META limits."""
    meta = pb.meta
    longest = int(meta.get("max_length") or n_projects)
    kind = meta.get("vote_type", "approval")
    if kind == "cumulative":
        points = int(meta.get("max_sum_points") or meta.get("max_points") or longest)
        most = int(meta.get("max_points") or points)
        return {"type": "cumulative", "points": points, "max_per_project": min(most, points)}
    if kind == "ordinal":
        return {"type": "ranked", "k": min(longest, n_projects)}
    if kind == "choose-1":
        return {"type": "approval", "min": 1, "max": 1}
    return {"type": "approval", "min": 1, "max": min(longest, n_projects)}


def _tally(pb, rule):
    """The section's tally: the .pb's META rule when Urne has it, else greedy."""
    tally = {"rules": [rule if rule in RULES else "greedy"]}
    if tally["rules"][0] == "greedy-threshold":
        # Pabulib's minimum score may be written with decimals; scores are whole numbers.
        tally["threshold"] = max(1, math.ceil(float(pb.meta.get("min_project_score_threshold", 1))))
    return tally


def _toml(value):
    # JSON strings, integers and arrays are valid TOML values; tables are written inline.
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _key(name):
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name, ensure_ascii=False)


def source_from_pb(path, *, today):
    """TOML text of a valid election source whose one section holds the .pb's projects."""
    pb = read_pb(path)
    section = pb_to_source(path)
    rule = pb.meta.get("rule", "greedy")
    lines = [
        f"# Made by `urne election from-pb` from {Path(path).name}.",
        f'# Replace every "{TODO}" before `urne election build`.',
        f"slug = {_toml(re.sub(r'[^a-z0-9-]+', '-', Path(path).stem.lower()).strip('-')[:40] or 'pb')}",
        'languages = ["fr"]',
        f"title = {_toml(section['title'])}",
        f"intro = {_toml({'fr': TODO})}",
        f"privacy_notice = {_toml({'fr': TODO})}",
        "",
        "[window]",
        f"opens = {today.isoformat()}",
        f"closes = {(today + datetime.timedelta(days=30)).isoformat()}",
        "",
        "[eligibility]",
        f"communes = {_toml([TODO])}",
        'identity_fields = ["last_name", "first_name", "birth_date", "commune"]',
        "",
        "[[sections]]",
        'id = "projets"',
        f"title = {_toml(section['title'])}",
        f"budget = {section['budget']}",
        f"ballot = {_toml(_ballot(pb, len(section['projects'])))}",
        f"tally = {_toml(_tally(pb, rule))}",
    ]
    for project in section["projects"]:
        lines += ["", "[[sections.projects]]"]
        lines += [f"{_key(k)} = {_toml(v)}" for k, v in project.items()]
    text = "\n".join(lines) + "\n"
    # What this writes must load and validate as it is: refuse here rather than at build time.
    validate_source(tomllib.loads(text))
    return text
