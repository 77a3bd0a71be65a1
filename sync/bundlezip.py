"""The bundle's zip layout: one exact, stored-only form, written and read strictly.

Every byte of a bundle is either a fixed zip header field, a size/CRC/offset that is cross-checked,
or member content covered by the signed manifest, so any change to the file is detected.
"""

import hashlib
import io
import struct
import zlib
from dataclasses import dataclass

from .errors import BundleError

LOCAL = struct.Struct("<IHHHHHIIIHH")  # 30 bytes
CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # 46 bytes
EOCD = struct.Struct("<IHHHHIIH")  # 22 bytes
LOCAL_SIG, CENTRAL_SIG, EOCD_SIG = 0x04034B50, 0x02014B50, 0x06054B50

VERSION_NEEDED = 20
VERSION_MADE_BY = 0x0314  # Unix, zip 2.0
METHOD_STORED = 0
DOS_TIME, DOS_DATE = 0, 0x0021  # 1980-01-01 00:00: members carry no time of their own
EXTERNAL_ATTR = 0o100644 << 16  # a regular file, rw-r--r--

MAX_FILE_BYTES = 1 << 30
MAX_MEMBERS = 16
MAX_NAME = 255
MAX_RATIO = 20
CHUNK = 1 << 20


@dataclass(frozen=True)
class Member:
    """One member of a strictly read archive: where its stored bytes are, and their size."""

    name: str
    offset: int
    size: int
    crc: int


def _local_header(name, crc, size):
    raw = name.encode("ascii")
    head = LOCAL.pack(
        LOCAL_SIG,
        VERSION_NEEDED,
        0,
        METHOD_STORED,
        DOS_TIME,
        DOS_DATE,
        crc,
        size,
        size,
        len(raw),
        0,
    )
    return head + raw


def _central_header(name, crc, size, offset):
    raw = name.encode("ascii")
    head = CENTRAL.pack(
        CENTRAL_SIG, VERSION_MADE_BY, VERSION_NEEDED, 0, METHOD_STORED, DOS_TIME, DOS_DATE,
        crc, size, size, len(raw), 0, 0, 0, 0, EXTERNAL_ATTR, offset,
    )  # fmt: skip
    return head + raw


class ZipWriter:
    """Writes the exact layout to a seekable binary file: add members, then finish()."""

    def __init__(self, f):
        self.f = f
        self.entries = []

    def add(self, name, data):
        """Add a member from bytes; return its sha256 hex."""
        return self.add_stream(name, [data])

    def add_stream(self, name, chunks):
        """Add a member from an iterable of byte chunks (header patched afterwards)."""
        offset = self.f.tell()
        self.f.write(_local_header(name, 0, 0))
        crc, size, sha = 0, 0, hashlib.sha256()
        for chunk in chunks:
            self.f.write(chunk)
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            sha.update(chunk)
        if size >= 1 << 32:
            raise BundleError("member too large for a zip without zip64", where=name, got=size)
        end = self.f.tell()
        self.f.seek(offset)
        self.f.write(_local_header(name, crc, size))
        self.f.seek(end)
        self.entries.append((name, crc, size, offset))
        return sha.hexdigest()

    def finish(self):
        """Write the central directory and the end record."""
        start = self.f.tell()
        for name, crc, size, offset in self.entries:
            self.f.write(_central_header(name, crc, size, offset))
        cd_size = self.f.tell() - start
        n = len(self.entries)
        self.f.write(EOCD.pack(EOCD_SIG, 0, 0, n, n, cd_size, start, 0))


def pack(members):
    """Archive bytes of [(name, bytes), ...] in the exact layout (for tests and small bundles)."""
    buf = io.BytesIO()
    writer = ZipWriter(buf)
    for name, data in members:
        writer.add(name, data)
    writer.finish()
    return buf.getvalue()


def _check_name(name, seen, where):
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise BundleError(
            "absolute path in archive", where=where, expected="a plain name", got=name
        )
    if ".." in name.replace("\\", "/").split("/"):
        raise BundleError(
            "path traversal in archive", where=where, expected="a plain name", got=name
        )
    if "/" in name or "\\" in name:
        raise BundleError("folder in archive", where=where, expected="a plain name", got=name)
    if name in seen:
        raise BundleError("duplicate member", where=where, got=name)


LOCAL_FIELDS = ("signature", "version needed", "flags", "compression method", "time", "date",
                "crc-32", "compressed size", "size", "name length", "extra field length")  # fmt: skip
CENTRAL_FIELDS = ("signature", "version made by", "version needed", "flags", "compression method",
                  "time", "date", "crc-32", "compressed size", "size", "name length",
                  "extra field length", "comment length", "disk number", "internal attributes",
                  "external attributes", "local header offset")  # fmt: skip


def _fixed(where, field, got, want):
    if got != want:
        raise BundleError(f"non-canonical zip field {field}", where=where, expected=want, got=got)


def _header(where, header, layout, names, got, want):
    """Compare a zip header to its one canonical form; name the first field that differs."""
    if len(got) < layout.size:
        raise BundleError(f"truncated {header}", where=where, expected=len(want), got=len(got))
    # Show each differing value as hex of its own width: short, and readable beside a zip spec.
    for name, fmt, a, b in zip(names, layout.format[1:], layout.unpack_from(got),
                               layout.unpack_from(want), strict=True):  # fmt: skip
        if a != b:
            width = struct.calcsize(fmt) * 2
            _fixed(f"{where} {header}", name, f"0x{a:0{width}x}", f"0x{b:0{width}x}")
    if got[layout.size :] != want[layout.size :]:
        _fixed(f"{where} {header}", "name", got[layout.size :], want[layout.size :])


def read_layout(f, size, expected, limits):
    """Check the archive structure before reading any content; return {name: Member}.

    `expected` is the member names in their required order; `limits` maps name to max size.
    """
    if size > MAX_FILE_BYTES:
        raise BundleError("bundle too large", expected=f"<= {MAX_FILE_BYTES} bytes", got=size)
    if size < EOCD.size:
        raise BundleError("truncated archive", expected="a zip archive", got=f"{size} bytes")
    f.seek(size - EOCD.size)
    sig, disk, cd_disk, n_disk, n, cd_size, cd_offset, comment = EOCD.unpack(f.read(EOCD.size))
    if sig != EOCD_SIG:
        raise BundleError("truncated archive or trailing bytes", where="end of central directory")
    if n > MAX_MEMBERS or n_disk > MAX_MEMBERS:
        raise BundleError("too many members", expected=f"<= {MAX_MEMBERS}", got=max(n, n_disk))
    _fixed("end of central directory", "disk", (disk, cd_disk, n_disk, comment), (0, 0, n, 0))
    if cd_offset + cd_size != size - EOCD.size:
        raise BundleError(
            "central directory misplaced (truncated archive?)",
            expected=size - EOCD.size,
            got=cd_offset + cd_size,
        )
    f.seek(cd_offset)
    directory = f.read(cd_size)
    entries, pos, seen = [], 0, set()
    for i in range(n):
        where = f"central directory entry {i}"
        if pos + CENTRAL.size > len(directory):
            raise BundleError("truncated central directory", where=where)
        fields = CENTRAL.unpack_from(directory, pos)
        name_len, extra_len, comment_len = fields[10], fields[11], fields[12]
        raw = directory[pos + CENTRAL.size : pos + CENTRAL.size + name_len]
        pos += CENTRAL.size + name_len + extra_len + comment_len
        if fields[0] != CENTRAL_SIG or len(raw) != name_len or name_len > MAX_NAME:
            raise BundleError("corrupt central directory", where=where)
        try:
            name = raw.decode("ascii")
        except UnicodeDecodeError:
            raise BundleError("non-ASCII member name", where=where, got=repr(raw)) from None
        where = f"member {name!r}"
        _check_name(name, seen, where)
        if (fields[15] >> 16) & 0o170000 == 0o120000:
            raise BundleError("symbolic link in archive", where=where, expected="a regular file")
        if fields[3] & 1:
            raise BundleError("encrypted member", where=where)
        seen.add(name)
        entries.append((name, fields))
    if pos != len(directory):
        raise BundleError("trailing bytes in central directory", expected=pos, got=len(directory))
    names = [name for name, _ in entries]
    for name in names:
        if name not in expected:
            raise BundleError("unexpected member", expected=list(expected), got=name)
    for name in expected:
        if name not in names:
            raise BundleError("missing member", where=name, expected=list(expected), got=names)
    total = 0
    for name, fields in entries:
        csize, usize = fields[8], fields[9]
        total += usize
        if usize > limits[name] or total > MAX_FILE_BYTES:
            raise BundleError(
                "member too large", where=name, expected=f"<= {limits[name]} bytes", got=usize
            )
        if usize > MAX_RATIO * max(csize, 1):
            raise BundleError(
                "compression ratio too high (zip bomb?)",
                where=name,
                expected=f"<= {MAX_RATIO}",
                got=usize // max(csize, 1),
            )
    if names != list(expected):
        raise BundleError("members out of order", expected=list(expected), got=names)
    members, offset = {}, 0
    for name, fields in entries:
        where = f"member {name!r}"
        _fixed(where, "compression method", fields[4], METHOD_STORED)
        want = _central_header(name, fields[7], fields[9], offset)
        got = CENTRAL.pack(*fields) + name.encode("ascii")
        _header(where, "central header", CENTRAL, CENTRAL_FIELDS, got, want)
        f.seek(offset)
        local = f.read(LOCAL.size + len(name))
        want = _local_header(name, fields[7], fields[9])
        _header(where, "local header", LOCAL, LOCAL_FIELDS, local, want)
        members[name] = Member(name, offset + len(local), fields[9], fields[7])
        offset += len(local) + fields[9]
    if offset != cd_offset:
        raise BundleError(
            "bytes between members and central directory", expected=offset, got=cd_offset
        )
    return members


def read_member(f, member):
    """The content of a small member, CRC-checked."""
    f.seek(member.offset)
    data = f.read(member.size)
    if len(data) != member.size or zlib.crc32(data) != member.crc:
        raise BundleError("member CRC mismatch", where=member.name)
    return data


def stream_member(f, member, chunk=CHUNK):
    """Yield a member's content in chunks; CRC checked at the end (raises BundleError)."""
    f.seek(member.offset)
    left, crc = member.size, 0
    while left:
        data = f.read(min(chunk, left))
        if not data:
            raise BundleError("truncated member", where=member.name)
        crc = zlib.crc32(data, crc)
        left -= len(data)
        yield data
    if crc != member.crc:
        raise BundleError("member CRC mismatch", where=member.name)
