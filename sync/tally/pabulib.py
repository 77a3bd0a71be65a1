"""Pabulib `.pb` files: a strict reader, a writer for central results, and import as a source."""

import csv
import io
import os
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from ..errors import PabulibError
from .model import money_json

SECTIONS = ("META", "PROJECTS", "VOTES")
VOTE_TYPES = {
    "approval": "approval",
    "choose-1": "approval",
    "cumulative": "cumulative",
    "scoring": "cumulative",
    "ordinal": "ranked",
}
MAX_BYTES = 256 * 1024 * 1024


@dataclass
class PbFile:
    """A parsed .pb: META (str -> str), projects (rows as dicts, file order), votes (voter, ballot)."""

    meta: dict
    projects: list
    votes: list
    ballot_type: str

    @property
    def budget(self):
        """The META budget as an exact amount."""
        return _amount(self.meta["budget"], "META budget")

    @property
    def ballots(self):
        """The ballots as Urne stores selections: lists of ids, or dicts id -> points."""
        return [ballot for _, ballot in self.votes]

    def project_list(self):
        """Projects as the tally wants them: id, cost, canton (district) and category."""
        return [
            {
                "id": p["project_id"],
                "cost": p["cost"],
                "canton": p.get("district") or p.get("subunit"),
                "category": _first(p.get("category")),
            }
            for p in self.projects
        ]

    def selected(self, value="1"):
        """Ids whose `selected` column equals `value` (file order)."""
        return [p["project_id"] for p in self.projects if p.get("selected") == value]


def _first(value):
    if not value or value == "None":
        return None
    return value.split(",")[0].strip() or None


def _amount(text, where):
    try:
        value = Fraction(Decimal(text.strip()))
    except (InvalidOperation, ValueError, AttributeError) as exc:
        raise PabulibError(
            "not a number", where=where, expected="a decimal amount", got=repr(text)
        ) from exc
    if value < 0:
        raise PabulibError("negative amount", where=where, expected=">= 0", got=text)
    return value


def _fail(line, message, expected=None, got=None):
    raise PabulibError(message, where=f"line {line}", expected=expected, got=got)


def read_pb(path):
    """Parse a .pb file (see `parse_pb`); every error names the file."""
    path = os.fspath(path)
    try:
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            raise PabulibError(
                "file too large", where=path, expected=f"<= {MAX_BYTES} bytes", got=size
            )
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError as exc:
        raise PabulibError(
            "file does not exist", where=path, expected="a Pabulib .pb file", got="nothing there"
        ) from exc
    except IsADirectoryError as exc:
        raise PabulibError(
            "not a file", where=path, expected="a Pabulib .pb file", got="a folder"
        ) from exc
    except OSError as exc:
        raise PabulibError(
            "cannot read file", where=path, expected="a readable file", got=exc.strerror
        ) from exc
    try:
        return parse_pb(data)
    except PabulibError as exc:
        raise _in_file(exc, path) from None


def _in_file(exc, path):
    """The same error with the file's name in front of its line number."""
    text = str(exc)
    if exc.where and text.startswith(f"{exc.where}: "):
        text = text[len(exc.where) + 2 :]
    new = PabulibError(text, where=f"{path}, {exc.where}" if exc.where else path)
    new.expected, new.got = exc.expected, exc.got
    return new


def parse_pb(data):
    """Parse .pb bytes or text: META, PROJECTS, VOTES sections of `;`-separated CSV rows."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            _fail(line, "not UTF-8", "UTF-8 text", repr(data[exc.start : exc.start + 4]))
    if not data.strip():
        raise PabulibError(
            "empty file", expected="META, PROJECTS and VOTES sections", got="no text"
        )
    reader = csv.reader(io.StringIO(data, newline=""), delimiter=";", quotechar='"', strict=True)
    sections = {}
    current, header, rows = None, None, None
    try:
        for row in reader:
            line = reader.line_num
            if len(row) == 1 and row[0].strip() in SECTIONS:
                name = row[0].strip()
                if name in sections:
                    _fail(line, "section repeated", "each of META, PROJECTS, VOTES once", name)
                current, header, rows = name, None, []
                sections[name] = (line, None, rows)
                continue
            if not "".join(row).strip():
                continue
            if current is None:
                _fail(line, "text before the first section", "META", row[0][:40])
            if header is None:
                header = [cell.strip() for cell in row]
                if len(set(header)) != len(header):
                    _fail(line, "duplicate column", "distinct column names", ";".join(header))
                sections[current] = (line, header, rows)  # the header's own line
                continue
            if len(row) != len(header):
                _fail(
                    line,
                    f"{current} row has {len(row)} fields",
                    f"{len(header)} ({';'.join(header)})",
                    len(row),
                )
            rows.append((line, row))  # cells in header order; each section names its columns
    except csv.Error as exc:
        _fail(
            reader.line_num,
            "malformed CSV",
            "';'-separated fields, quotes doubled inside quotes",
            str(exc),
        )
    for name in SECTIONS:
        if name not in sections:
            _fail(reader.line_num, f"missing {name} section", name, "end of file")
    meta = _meta(*sections["META"])
    projects = _projects(*sections["PROJECTS"])
    kind = VOTE_TYPES[meta["vote_type"]]
    votes = _votes(*sections["VOTES"], kind, {p["project_id"] for p in projects})
    return PbFile(meta, projects, votes, kind)


def _need(header_line, header, columns, section):
    if header is None:
        _fail(header_line, f"{section} has no header", ";".join(columns), "nothing")
    for col in columns:
        if col not in header:
            _fail(header_line, f"{section} header lacks {col}", ";".join(columns), ";".join(header))


def _meta(start, header, rows):
    _need(start, header, ("key", "value"), "META")
    meta, lines = {}, {}
    for line, cells in rows:
        row = dict(zip(header, cells, strict=True))
        key = row["key"].strip()
        if key in meta:
            _fail(line, "META key repeated", "unique keys", key)
        meta[key], lines[key] = row["value"].strip(), line
    if "budget" not in meta:
        _fail(start, "META has no budget", "budget;<amount>", "missing")
    meta.setdefault("vote_type", "approval")
    if meta["vote_type"] not in VOTE_TYPES:
        _fail(
            lines.get("vote_type", start),
            "unknown vote_type",
            "/".join(VOTE_TYPES),
            meta["vote_type"],
        )
    _amount(meta["budget"], f"line {lines['budget']}")
    return meta


def _projects(start, header, rows):
    _need(start, header, ("project_id", "cost"), "PROJECTS")
    seen, out = set(), []
    for line, cells in rows:
        row = dict(zip(header, cells, strict=True))
        pid = row["project_id"].strip()
        if not pid or "," in pid:
            _fail(line, "bad project id", "non-empty, without commas", repr(pid))
        if pid in seen:
            _fail(line, "duplicate project id", "unique ids", pid)
        seen.add(pid)
        row = {k: v.strip() if k != "name" else v for k, v in row.items()}
        row["project_id"] = pid
        row["cost"] = _amount(row["cost"], f"line {line}")
        out.append(row)
    return out


def _votes(start, header, rows, kind, known):
    columns = ("voter_id", "vote", "points") if kind == "cumulative" else ("voter_id", "vote")
    _need(start, header, columns, "VOTES")
    seen, out = set(), []
    # By position: a dict per row would cost more than the rest of the row's checks.
    at_voter, at_vote = header.index("voter_id"), header.index("vote")
    at_points = header.index("points") if kind == "cumulative" else None
    for line, row in rows:
        voter = row[at_voter].strip()
        if voter in seen:
            _fail(line, "duplicate voter_id", "unique voters", voter)
        seen.add(voter)
        text = row[at_vote].strip()
        ids = list(map(str.strip, text.split(","))) if text else []
        if not known.issuperset(ids):  # in C; the loop only names the culprit
            pid = next(pid for pid in ids if pid not in known)
            _fail(line, "vote for an unknown project", "a project_id of PROJECTS", repr(pid))
        if len(set(ids)) != len(ids):
            _fail(line, "project listed twice in one vote", "distinct ids", text)
        if kind == "cumulative":
            pts = row[at_points].strip()
            points = [p.strip() for p in pts.split(",")] if pts else []
            if len(points) != len(ids):
                _fail(line, "points do not match the vote", f"{len(ids)} points", len(points))
            ballot = {}
            for pid, p in zip(ids, points, strict=True):
                if not re.fullmatch(r"[0-9]+(\.0+)?", p):
                    _fail(line, "points must be whole numbers", "0, 1, 2, ...", repr(p))
                ballot[pid] = int(p.split(".")[0])
            out.append((voter, ballot))
        else:
            out.append((voter, ids))
    return out


# -- writing -------------------------------------------------------------------------------
def _row(values):
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", quotechar='"', lineterminator="\n").writerow(values)
    return buf.getvalue()


def _text(value):
    if isinstance(value, Fraction):
        return str(money_json(value))
    return str(value)


def dumps_pb(meta, projects, ballots, *, ballot_type, outcome=None):
    """A .pb text: META (with the outcome's rule and budget), PROJECTS, VOTES as voters 1..n."""
    # Ballots go out in sorted order: the file says nothing about the order of voting, and the
    # same ballots always give the same bytes.
    kind = {
        "approval": "approval",
        "knapsack": "approval",
        "cumulative": "cumulative",
        "ranked": "ordinal",
    }.get(ballot_type)
    if kind is None:
        raise PabulibError(
            "unknown ballot type",
            where="ballot_type",
            expected="approval/knapsack/cumulative/ranked",
            got=ballot_type,
        )
    meta = dict(meta)
    meta["vote_type"] = kind
    meta["num_projects"] = str(len(projects))
    meta["num_votes"] = str(len(ballots))
    if outcome is not None:
        meta["rule"] = outcome.rule
        meta["budget"] = _text(outcome.budget)
    for i, p in enumerate(projects):
        if "," in p["id"] or not p["id"]:
            raise PabulibError(
                "project id cannot be written",
                where=f"projects[{i}].id",
                expected="no comma",
                got=p["id"],
            )
    out = ["META\n", _row(["key", "value"])]
    out += [_row([k, _text(v)]) for k, v in meta.items()]
    extra = [k for k in ("name", "category", "canton") if any(p.get(k) for p in projects)]
    cols = ["project_id", "cost"] + (["votes", "score", "selected"] if outcome else []) + extra
    out += ["PROJECTS\n", _row(cols)]
    funded = set(outcome.selected) if outcome else set()
    for p in projects:
        vals = [p["id"], _text(Fraction(p["cost"]))]
        if outcome:
            vals += [
                outcome.votes.get(p["id"], 0),
                outcome.score.get(p["id"], 0),
                int(p["id"] in funded),
            ]
        out.append(_row(vals + [_text(p.get(k) or "") for k in extra]))
    voted = ["voter_id", "vote"] + (["points"] if kind == "cumulative" else [])
    out += ["VOTES\n", _row(voted)]
    if kind == "cumulative":
        rows = sorted(sorted(b.items()) for b in ballots)
        lines = [[",".join(p for p, _ in b), ",".join(str(n) for _, n in b)] for b in rows]
    elif kind == "ordinal":
        lines = [[",".join(b)] for b in sorted(list(b) for b in ballots)]
    else:
        lines = [[",".join(b)] for b in sorted(sorted(b) for b in ballots)]
    out += [_row([str(i)] + vals) for i, vals in enumerate(lines, 1)]
    return "".join(out)


def write_pb(path, meta, projects, ballots, *, ballot_type, outcome=None):
    """Write `dumps_pb(...)` to `path` atomically (temporary file, fsync, rename)."""
    text = dumps_pb(meta, projects, ballots, ballot_type=ballot_type, outcome=outcome)
    path = os.fspath(path)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


# -- import as an election source ---------------------------------------------------------
_ID_OK = re.compile(r"[A-Za-z0-9._/-]{1,40}\Z")


def _slug(value, fallback):
    s = re.sub(r"[^a-z0-9_-]+", "-", (value or "").lower()).strip("-")[:40]
    return s or fallback


def pb_to_source(path):
    """The projects of a .pb as an election source section: {title, budget, projects}."""
    # Project fields follow docs/architecture.md: id, title {"fr"}, summary {"fr"}, cost (whole
    # euros), canton (district or subunit, else META district/unit), category (first Pabulib
    # category, slugified, else "general").
    pb = read_pb(path)
    projects = []
    for p in pb.projects:
        pid = p["project_id"]
        if not _ID_OK.match(pid):
            raise PabulibError(
                "project id not usable in Urne",
                where=f"project {pid!r}",
                expected="[A-Za-z0-9._/-]{1,40}",
                got=pid,
            )
        if p["cost"].denominator != 1:
            raise PabulibError(
                "cost is not whole",
                where=f"project {pid}",
                expected="whole currency units",
                got=str(float(p["cost"])),
            )
        name = (p.get("name") or pid).strip()
        projects.append(
            {
                "id": pid,
                "title": {"fr": name[:200]},
                "summary": {"fr": (p.get("description") or name).strip()[:2000]},
                "cost": int(p["cost"]),
                "canton": (
                    p.get("district")
                    or p.get("subunit")
                    or pb.meta.get("district")
                    or pb.meta.get("unit")
                    or "-"
                )[:100],
                "category": _slug(_first(p.get("category")), "general"),
            }
        )
    budget = pb.budget
    return {
        "title": {"fr": pb.meta.get("description", os.path.basename(os.fspath(path)))[:200]},
        "budget": int(budget),  # whole currency units (a fractional budget is rounded down)
        "projects": projects,
    }
