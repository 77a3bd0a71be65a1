"""One device epoch's chain as the verifier merges it: compact per-seq state, gaps, forks, sessions."""

import re
from dataclasses import dataclass, field

from .records import genesis

TYPE_CODES = {
    "ballot": ord("b"),
    "void": ord("v"),
    "session_open": ord("o"),
    "session_close": ord("c"),
}
NO_ID = bytes(16)
_NOT_BALLOT = re.compile(rb"[^b]")  # every record type but the ballot ("b")


@dataclass
class ChainReport:
    """One device epoch's chain, merged over every bundle that verified."""

    device: str
    epoch: int
    records: int = 0
    ballots: int = 0
    voids: int = 0
    sessions: int = 0
    last: int = 0
    head: str | None = None
    ranges: list = field(default_factory=list)
    gaps: list = field(default_factory=list)
    forks: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    @property
    def ok(self):
        """True when the chain has no gap, no fork and no error."""
        return not (self.gaps or self.forks or self.errors)


class ChainState:
    """Per seq: 32 bytes of hash, one type byte, 16 bytes of ballot id; never the records."""

    def __init__(self, device, epoch):
        self.report = ChainReport(device, epoch)
        self.hashes = bytearray()
        self.types = bytearray()
        self.ids = bytearray()
        self.closes = {}  # seq -> (ballots, voids, total) of each session_close
        self.links = []  # (seq, prev, path): each bundle's first record, to link across bundles

    def merge(self, first, part, prev, path):
        """Add a verified bundle's records (part: hashes, types, ids, closes) starting at first."""
        hashes, types, ids, closes = part
        end = first - 1 + len(types)
        if len(self.types) < end:
            grow = end - len(self.types)
            self.hashes += bytes(32 * grow)
            self.types += bytes(grow)
            self.ids += bytes(16 * grow)
        start = first - 1
        if self.types.count(0, start, end) == len(types):
            # Nothing known yet in this range (the usual case): copy it in whole.
            self.hashes[32 * start : 32 * end] = hashes
            self.types[start:end] = types
            self.ids[16 * start : 16 * end] = ids
        else:
            self._merge_each(first, hashes, types, ids, path)
        for seq, counts in closes:
            self.closes.setdefault(seq, counts)
        self.links.append((first, prev, path))
        self.report.ranges.append([first, end])

    def _merge_each(self, first, hashes, types, ids, path):
        """Merge record by record where another bundle already covered some seqs."""
        for i in range(len(types)):
            seq = first + i
            h = hashes[32 * i : 32 * i + 32]
            if not self.types[seq - 1]:
                self.hashes[32 * (seq - 1) : 32 * seq] = h
                self.types[seq - 1] = types[i]
                self.ids[16 * (seq - 1) : 16 * seq] = ids[16 * i : 16 * i + 16]
            elif self.hashes[32 * (seq - 1) : 32 * seq] != h:
                self.report.forks.append({"seq": seq, "bundle": path})

    def finish(self, election_id):
        """Check links across bundles, gaps, voids and session counts; return the ChainReport."""
        r = self.report
        for seq, prev, path in self.links:
            if seq == 1:
                want = genesis(election_id, r.device, r.epoch)
            elif self.types[seq - 2]:
                want = self.hashes[32 * (seq - 2) : 32 * (seq - 1)].hex()
            else:
                continue  # reported as a gap below
            if prev != want:
                r.errors.append(f"{path}: record {seq} does not link to record {seq - 1}")
        r.last = len(self.types)
        r.records = r.last - self.types.count(0)
        r.ballots = self.types.count(TYPE_CODES["ballot"])
        r.voids = self.types.count(TYPE_CODES["void"])
        r.sessions = self.types.count(TYPE_CODES["session_open"])
        r.head = self.hashes[-32:].hex() if r.last else None
        pos = self.types.find(0)
        while pos != -1:
            end = pos
            while end + 1 < len(self.types) and not self.types[end + 1]:
                end += 1
            r.gaps.append([pos + 1, end + 1])
            pos = self.types.find(0, end + 1)
        r.ranges = merge_ranges(r.ranges)
        # Past a gap the counts cannot be known: the gap already fails the audit.
        r.errors += self._sessions(r.gaps[0][0] - 1 if r.gaps else r.last)
        return r

    def _sessions(self, limit):
        """Voids name earlier, unvoided ballots; session_close counts match the records."""
        errors, voided = [], {}
        is_open, in_session, voids, total = False, 0, 0, 0
        void = TYPE_CODES["void"]
        opening, closing = TYPE_CODES["session_open"], TYPE_CODES["session_close"]
        types, ids = bytes(self.types[:limit]), bytes(self.ids[: 16 * limit])
        pos = 0
        for i in [m.start() for m in _NOT_BALLOT.finditer(types)] + [limit]:
            # The run of ballots before record i, in bulk (one by one only to name a duplicate).
            keys = [ids[16 * j : 16 * j + 16] for j in range(pos, i)]
            if len(set(keys)) == len(keys) and voided.keys().isdisjoint(keys):
                voided.update(dict.fromkeys(keys, False))
            else:
                for j, key in enumerate(keys, start=pos):
                    if key in voided:
                        errors.append(f"record {j + 1}: ballot id {key.hex()} used twice")
                    voided[key] = False
            in_session, total = in_session + len(keys), total + len(keys)
            if i == limit:
                break
            kind, seq, pos = types[i], i + 1, i + 1
            if kind == void:
                key = ids[16 * i : 16 * i + 16]
                if key not in voided:
                    errors.append(f"record {seq}: void names no earlier ballot ({key.hex()})")
                elif voided[key]:
                    errors.append(f"record {seq}: ballot {key.hex()} voided twice")
                voided[key] = True
                voids += 1
            elif kind == opening:
                if is_open:
                    errors.append(f"record {seq}: session opened while one is open")
                is_open, in_session, voids = True, 0, 0
            elif kind == closing:
                if not is_open:
                    errors.append(f"record {seq}: session closed while none is open")
                said = self.closes.get(seq)
                if said != (in_session, voids, total):
                    errors.append(
                        f"record {seq}: session_close counts (ballots, voids, total): "
                        f"expected {(in_session, voids, total)}, got {said}"
                    )
                is_open = False
        return errors


def merge_ranges(ranges):
    """Sorted, merged [first, last] ranges."""
    out = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out
