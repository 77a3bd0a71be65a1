"""The central's import path of bundle verification: table rows, ballots never parsed to dicts."""

import hashlib
from functools import partial

from .bundle import (
    RECORDS,
    UnverifiedBundle,
    VerifiedBundle,
    check_tail,
    read_unverified_bundle,
    split_block,
    verify_header,
)
from .central_schema import ballot_key
from .records import RecordChecker, check_link, decode_line, genesis, record_hash
from .sigbatch import SignatureBatch


def verify_bundle_rows(source, election, revocations=None):
    """verify_bundle for the central's import: (VerifiedBundle without records, rows).

    The same checks in the same order; a row holds the records table's columns (device, epoch,
    seq, hash, prev, kind, ballot, channel, time, body bytes, signature). Ballots on the hot path
    (RecordChecker.fast_unsigned) are never parsed into dicts: that is most of the import's speed;
    their signatures are verified a block at a time (SignatureBatch).
    """
    ub = source if isinstance(source, UnverifiedBundle) else read_unverified_bundle(source)
    cert = verify_header(ub, election, revocations)
    m, device, epoch = ub.manifest, cert.device, cert.epoch
    checker = RecordChecker(key=cert.key, election=election, device=device, epoch=epoch)
    seq, prev = m["first"], genesis(election.id, device, epoch) if m["first"] == 1 else None
    rows, fast, sha256 = [], checker.fast_unsigned, hashlib.sha256
    full = partial(_full, checker)
    batch = SignatureBatch(checker, full)
    with batch.flushing():
        for first, block in ub.blocks():
            for number, line in split_block(first, block):
                got = fast(line)
                if got is not None:
                    fm, message, signature = got
                    this, this_prev = int(fm["seq"]), fm["prev"].decode()
                    if this != seq or (prev is not None and this_prev != prev):
                        link = {"seq": this, "prev": this_prev}
                        where = f"{RECORDS}:{number}"
                        check_link(link, expected_seq=seq, expected_prev=prev, where=where)
                    batch.add(number, line, signature, message)
                    prev = sha256(message).hexdigest()
                    ballot = fm["ballot"].decode()
                    rows.append((
                        device, epoch, this, prev, this_prev, "ballot", ballot,
                        fm["channel"].decode(), fm["time"].decode(), fm["body"], signature,
                        ballot_key(ballot),
                    ))  # fmt: skip
                else:
                    where, body_bytes, signature, body = full(number, line)
                    check_link(body, expected_seq=seq, expected_prev=prev, where=where)
                    checker.check_selections(body, where=where)
                    prev = record_hash(body_bytes)
                    kind = body["type"]
                    rows.append((
                        device, epoch, body["seq"], prev, body["prev"], kind, body.get("ballot"),
                        body.get("channel"), body["time"], bytes(body_bytes), signature,
                        ballot_key(body["ballot"]) if kind == "ballot" else None,
                    ))  # fmt: skip
                seq += 1
            batch.flush()  # a block at a time (256 KB of lines): memory stays small
    check_tail(m, len(rows), seq - 1, prev)
    bundle = VerifiedBundle(
        ub.path, device, epoch, m["first"], m["last"], m["count"], m["head"], ub.hash,
        m["cumulative"], cert, m, [],
    )  # fmt: skip
    return bundle, rows


def _full(checker, number, line):
    """The full path of one line: (where, body bytes, signature, checked body); raises its error."""
    where = f"{RECORDS}:{number}"
    body_bytes, signature = decode_line(line, where=where)
    body = checker.check(body_bytes, signature, where=where, selections=False)
    return where, body_bytes, signature, body
