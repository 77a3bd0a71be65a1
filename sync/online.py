"""Online voters: tag the platform's list like the kiosks do, and list the online votes to cancel."""

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from .election import open_secret
from .errors import ConflictError, RecordError
from .groups import adjudication_bodies, central_key, refresh_groups, signing_key
from .results import resolve_all
from .tags import election_keys, voter_tag

TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?Z?\Z")
ID = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")
MAX_ROWS = 2_000_000


@dataclass(frozen=True)
class OnlineReport:
    """What an online import did."""

    rows: int
    added: int
    groups: int
    cancel: tuple  # online vote ids the platform must cancel
    held: int  # duplicate groups still waiting for an organiser


def read_online_csv(data, identity_fields, *, columns=None, id_column="id", time_column="time"):
    """Parse the platform's CSV into (id, time, identity fields) rows; raise RecordError."""
    columns = {f: (columns or {}).get(f, f) for f in identity_fields}
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = reader.fieldnames or []
    for name in (id_column, time_column, *columns.values()):
        if name not in header:
            raise RecordError(
                "column missing", where="header", expected=name, got=", ".join(header)
            )
    rows, seen = [], set()
    for n, row in enumerate(reader, start=2):
        where = f"line {n}"
        vid = (row[id_column] or "").strip()
        if not ID.match(vid):
            raise RecordError(
                "bad online vote id",
                where=f"{where}.{id_column}",
                expected="[A-Za-z0-9._-]{1,64}",
                got=vid,
            )
        if vid in seen:
            raise RecordError("online vote id repeated", where=f"{where}.{id_column}", got=vid)
        seen.add(vid)
        m = TIME.match((row[time_column] or "").strip())
        if not m:
            raise RecordError(
                "bad time",
                where=f"{where}.{time_column}",
                expected="YYYY-MM-DD HH:MM",
                got=row[time_column],
            )
        fields = {f: (row[c] or "").strip() for f, c in columns.items()}
        for f, value in fields.items():
            if not value:
                raise RecordError("empty identity field", where=f"{where}.{columns[f]}", expected=f)
        rows.append((vid, f"{m.group(1)}T{m.group(2)}", fields))
        if len(rows) > MAX_ROWS:
            raise RecordError("too many rows", expected=f"<= {MAX_ROWS}")
    return rows


def import_online(central, data, *, columns=None, id_column="id", time_column="time", now):
    """Tag the online voters, store them, regroup across channels; an OnlineReport."""
    election, store = central.election, central.store
    private = central_key(central.home)
    voter_key, _ = election_keys(open_secret(election, private))
    rows = read_online_csv(
        data,
        election.eligibility["identity_fields"],
        columns=columns,
        id_column=id_column,
        time_column=time_column,
    )
    tagged = []
    for vid, time, fields in rows:
        try:
            tagged.append((vid, voter_tag(voter_key, fields), time))
        except RecordError as exc:
            raise RecordError(f"online vote {vid}: {exc}") from exc
    added = 0
    with store.write() as c:
        for vid, tag, time in tagged:
            old = c.execute("SELECT tag, time FROM online WHERE id = ?", (vid,)).fetchone()
            if old is None:
                c.execute("INSERT INTO online (id, tag, time) VALUES (?, ?, ?)", (vid, tag, time))
                added += 1
            elif (bytes(old[0]), old[1]) != (tag, time):
                raise ConflictError("online vote id already imported with other data", where=vid)
    body = refresh_groups(
        store, election, private, signing_key(central.home), now=now, exclude=central.revoked
    )
    _, _, res = resolve_all(
        election, central.records(), groups=body, adjudications=adjudication_bodies(store, election)
    )
    return OnlineReport(
        len(rows), added, len(body["groups"]), res.cancel_online, len(res.held_groups)
    )


def write_cancel_list(path, cancel):
    """The list of online votes to cancel: a CSV with one column `id`."""
    text = "id\n" + "".join(f"{i}\n" for i in cancel)
    Path(path).write_text(text, encoding="utf-8")
    return path
