"""Online voters: the platform's CSV tagged like the kiosks, the policy across channels."""

import pytest
from fixtures_central import NOW

from sync.central import import_bundle
from sync.errors import ConflictError, RecordError
from sync.online import import_online, read_online_csv, write_cancel_list

T = "2026-05-16T"
COLUMNS = {"last_name": "Nom", "first_name": "Prénom", "birth_date": "Naissance", "postcode": "CP"}
FIELDS = ("last_name", "first_name", "birth_date", "postcode")


def csv_text(rows):
    lines = ["vote;horodatage;Nom;Prénom;Naissance;CP"]
    lines += [f"{vid};{time};{name};a;01/01/1980;64100" for vid, time, name in rows]
    return ("\n".join(lines) + "\n").encode()


def load(kit, policy_rows):
    with kit.open() as c:
        for d, evs in policy_rows.items():
            import_bundle(c.store, c.election, kit.bundle(d, kit.chain(d, evs)), now=NOW)


def test_online_votes_are_cancelled_when_a_kiosk_vote_came_first(central_kit, tmp_path):
    kit = central_kit(policy="earliest")
    load(
        kit,
        {
            "k1": [
                ("open", f"{T}09:00"),
                ("ballot", "Ana", "kiosk", f"{T}09:00"),
                ("ballot", "Ben", "kiosk", f"{T}09:15"),
            ]
        },
    )
    # "ANA" in capitals with a French date is the same resident; Ben voted online first.
    data = csv_text(
        [
            ("w1", "2026-05-16 12:00", "ANA"),
            ("w2", "2026-05-16 08:00", "Ben"),
            ("w3", "2026-05-16 10:00", "Zoé"),
        ]
    )
    with kit.open() as c:
        report = import_online(
            c, data, columns=COLUMNS, id_column="vote", time_column="horodatage", now=NOW
        )
        from sync.publish import central_result

        result = central_result(c, now=NOW)
    assert (report.rows, report.added, report.groups) == (3, 3, 2)
    assert report.cancel == ("w1",)
    assert result["ballots"]["excluded"] == 1 and result["ballots"]["counted"] == 1
    out = write_cancel_list(tmp_path / "cancel.csv", report.cancel)
    assert out.read_text() == "id\nw1\n"


def test_hold_keeps_cross_channel_groups_for_review(central_kit):
    kit = central_kit()
    load(kit, {"k1": [("open", f"{T}09:00"), ("ballot", "Ana", "kiosk", f"{T}09:00")]})
    with kit.open() as c:
        report = import_online(
            c,
            csv_text([("w1", "2026-05-16T12:00", "Ana")]),
            columns=COLUMNS,
            id_column="vote",
            time_column="horodatage",
            now=NOW,
        )
    assert report.cancel == () and report.held == 1


def test_the_same_import_twice_adds_nothing_and_changed_data_is_refused(central_kit):
    kit = central_kit()
    rows = [("w1", "2026-05-16 12:00", "Ana")]
    with kit.open() as c:
        import_online(
            c, csv_text(rows), columns=COLUMNS, id_column="vote", time_column="horodatage", now=NOW
        )
        again = import_online(
            c, csv_text(rows), columns=COLUMNS, id_column="vote", time_column="horodatage", now=NOW
        )
        assert again.added == 0
        with pytest.raises(ConflictError):
            import_online(
                c,
                csv_text([("w1", "2026-05-16 12:00", "Other")]),
                columns=COLUMNS,
                id_column="vote",
                time_column="horodatage",
                now=NOW,
            )
        assert c.store.conn.execute("SELECT count(*) FROM online").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"vote;horodatage;Nom\nw1;2026-05-16 12:00;Ana\n", "column missing"),
        (csv_text([("w 1", "2026-05-16 12:00", "Ana")]), "bad online vote id"),
        (csv_text([("w1", "yesterday", "Ana")]), "bad time"),
        (
            csv_text([("w1", "2026-05-16 12:00", "Ana"), ("w1", "2026-05-16 12:00", "Ben")]),
            "repeated",
        ),
    ],
)
def test_bad_csv_is_refused_with_its_line(text, message):
    with pytest.raises(RecordError, match=message):
        read_online_csv(text, FIELDS, columns=COLUMNS, id_column="vote", time_column="horodatage")
