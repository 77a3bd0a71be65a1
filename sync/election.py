"""Election sources, signed election packages and the Election / Section views of them."""

import datetime
import tomllib
import zoneinfo
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from . import ballot, crypto
from .canonical import canonical_bytes, parse_canonical
from .election_source import LANGUAGES, validate_source
from .errors import CanonicalError, ElectionError, SelectionError, SignatureError

__all__ = [
    "LANGUAGES",
    "PACKAGE_ERRORS",
    "PACKAGE_FIELDS",
    "Election",
    "Section",
    "build_package",
    "election_id",
    "load_source",
    "open_secret",
    "read_package",
    "read_package_file",
    "validate_source",
]

FORMAT = "urne/1"
PACKAGE_FIELDS = ("format", "authority_key", "central_key", "secret_sealed")
MAX_PACKAGE_BYTES = 8 << 20
SECRET_BYTES = 32
SEALED_SECRET_BYTES = 32 + SECRET_BYTES + 16  # ephemeral public key, ciphertext, tag


def load_source(path):
    """Read a TOML election source and return it validated and normalised."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError as exc:
        raise ElectionError("source file not found", where=str(path)) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ElectionError(f"not valid TOML ({exc})", where=str(path)) from exc
    return validate_source(data)


def election_id(body):
    """The election id: digest of the canonical package body."""
    return crypto.digest("urne/1/election", canonical_bytes(body))


def build_package(source, *, authority_key, central_public, secret, rng=None):
    """Sign a (validated) source into package bytes; `rng` makes the sealing reproducible."""
    body = validate_source(source)
    if len(secret) != SECRET_BYTES:
        raise ElectionError(
            "wrong secret size", where="secret", expected=f"{SECRET_BYTES} bytes", got=len(secret)
        )
    central_public = bytes(central_public)
    if len(central_public) != 32:
        raise ElectionError(
            "wrong central key size",
            where="central_key",
            expected="32 bytes",
            got=len(central_public),
        )
    ephemeral = X25519PrivateKey.from_private_bytes(rng.randbytes(32)) if rng else None
    sealed = crypto.seal(
        central_public, secret, "urne/1/secret-seal", aad=body["slug"].encode(), ephemeral=ephemeral
    )
    body.update(
        format=FORMAT,
        authority_key=crypto.public_bytes(authority_key).hex(),
        central_key=central_public.hex(),
        secret_sealed=sealed.hex(),
    )
    signature = crypto.sign(authority_key, "urne/1/election", canonical_bytes(body))
    return canonical_bytes({"election": body, "signature": signature.hex()})


def read_package_file(path, *, authority_key=None):
    """`read_package` of a file; errors name the file, and TOML source is recognised as such."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ElectionError(
            "cannot read the election package", where=str(path), expected="a readable file",
            got=exc.strerror,
        ) from exc  # fmt: skip
    try:
        return read_package(data, authority_key=authority_key)
    except CanonicalError as exc:
        if data.lstrip()[:1] == b"{":
            raise ElectionError(str(exc), where=str(path)) from exc
        looks_toml = path.suffix == ".toml" or _parses_as_toml(data)
        raise ElectionError(
            "not a signed election package",
            where=str(path),
            expected="a signed election package (.urne)",
            got="what looks like TOML source: build the package with `urne election build`"
            if looks_toml
            else f"{data[:16]!r}...",
        ) from exc
    except ElectionError as exc:
        raise ElectionError(str(exc), where=str(path)) from exc


def _parses_as_toml(data):
    try:
        tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return True


def read_package(data, *, authority_key=None):
    """Verify and parse package bytes; `authority_key` (raw bytes) pins the expected signer."""
    doc = parse_canonical(bytes(data), where="package", max_bytes=MAX_PACKAGE_BYTES)
    if not isinstance(doc, dict) or set(doc) != {"election", "signature"}:
        got = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise ElectionError(
            "not an election package", where="package", expected="{election, signature}", got=got
        )
    body = doc["election"]
    if not isinstance(body, dict):
        raise ElectionError("election is not an object", where="package.election")
    if body.get("format") != FORMAT:
        raise ElectionError(
            "unsupported package format",
            where="package.election.format",
            expected=FORMAT,
            got=body.get("format"),
        )
    key = crypto.from_hex(
        body.get("authority_key"),
        size=32,
        where="package.election.authority_key",
        error=ElectionError,
    )
    if authority_key is not None and not isinstance(authority_key, (bytes, bytearray)):
        authority_key = crypto.public_bytes(authority_key)  # a key object rather than raw bytes
    if authority_key is not None and bytes(authority_key) != key:
        raise SignatureError(
            "package signed by another authority",
            where="package.election.authority_key",
            expected=crypto.fingerprint(authority_key),
            got=crypto.fingerprint(key),
        )
    signature = crypto.from_hex(doc["signature"], size=64, where="package.signature")
    body_bytes = canonical_bytes(body)
    crypto.verify(key, "urne/1/election", body_bytes, signature, where="package.signature")
    crypto.from_hex(
        body.get("central_key"), size=32, where="package.election.central_key", error=ElectionError
    )
    crypto.from_hex(
        body.get("secret_sealed"),
        size=SEALED_SECRET_BYTES,
        where="package.election.secret_sealed",
        error=ElectionError,
    )
    source = {k: v for k, v in body.items() if k not in PACKAGE_FIELDS}
    # A signed body must already be in normal form: no defaults to fill, nothing to rewrite.
    if validate_source(source) != source:
        raise ElectionError("package body is not normalised", where="package.election")
    return Election(body, bytes(data), body_bytes=body_bytes)


def open_secret(election, central_private_key):
    """Open the election secret sealed to the central's X25519 key."""
    blob = bytes.fromhex(election.body["secret_sealed"])
    secret = crypto.open_sealed(
        central_private_key,
        blob,
        "urne/1/secret-seal",
        aad=election.slug.encode(),
        where="secret_sealed",
    )
    if len(secret) != SECRET_BYTES:
        raise ElectionError(
            "wrong secret size",
            where="secret_sealed",
            expected=f"{SECRET_BYTES} bytes",
            got=len(secret),
        )
    return secret


class Section:
    """One ballot of the election: budget, rule, tally settings and projects."""

    def __init__(self, body):
        self.body = body
        self.id = body["id"]
        self.title = body["title"]
        self.summary = body.get("summary")
        self.budget = body["budget"]
        self.ballot = body["ballot"]
        self.tally = body["tally"]
        self.projects = body["projects"]
        self._by_id = {p["id"]: p for p in self.projects}

    def __repr__(self):
        return f"<Section {self.id} {self.ballot['type']} {len(self.projects)} projects>"

    def find(self, project_id):
        """The project with this id, or None."""
        return self._by_id.get(project_id)

    def project(self, project_id):
        """The project with this id; raise SelectionError when the section has none."""
        try:
            return self._by_id[project_id]
        except (KeyError, TypeError):
            raise SelectionError(
                "unknown project",
                where=f"sections.{self.id}",
                expected="a project id of this section",
                got=repr(project_id),
            ) from None

    def validate(self, selection, *, where=None):
        """Raise SelectionError unless the selection is valid under this section's rule."""
        return ballot.validate_selection(self, selection, where=where)

    def scores(self, selection):
        """Points per project of a valid selection."""
        return ballot.scores(self, selection)

    def cost(self, selection):
        """Total cost of the projects a selection supports."""
        return ballot.selection_cost(self, selection)


class Election:
    """A verified election package (build it with read_package)."""

    def __init__(self, body, data, *, body_bytes=None):
        self.body = body
        self.bytes = data
        self.id = crypto.digest("urne/1/election", body_bytes or canonical_bytes(body))
        self.slug = body["slug"]
        self.authority_key = bytes.fromhex(body["authority_key"])
        self.central_key = bytes.fromhex(body["central_key"])
        self.languages = tuple(body["languages"])
        self.title = body["title"]
        self.intro = body["intro"]
        self.privacy_notice = body["privacy_notice"]
        self.eligibility = body["eligibility"]
        self.duplicate_policy = body["duplicate_policy"]
        self.window = body["window"]
        self.sections = tuple(Section(s) for s in body["sections"])
        self._sections = {s.id: s for s in self.sections}

    def __repr__(self):
        return f"<Election {self.slug} {self.id[:12]}>"

    @property
    def fingerprint(self):
        """The authority key's short fingerprint."""
        return crypto.fingerprint(self.authority_key)

    def section(self, section_id):
        """The section with this id; raise SelectionError when there is none."""
        try:
            return self._sections[section_id]
        except (KeyError, TypeError):
            raise SelectionError(
                "unknown section",
                where="selections",
                expected="/".join(self._sections),
                got=repr(section_id),
            ) from None

    def text(self, value, lang):
        """The text of a per-language table in `lang`, falling back to the default language."""
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        return value.get(lang) or value[self.languages[0]]

    def validate_selections(self, selections, *, where="selections"):
        """Check a ballot's selections (every section, nothing else); raise SelectionError."""
        if not isinstance(selections, dict):
            raise SelectionError(
                "expected an object of sections",
                where=where,
                expected="object",
                got=type(selections).__name__,
            )
        for key in selections:
            if key not in self._sections:
                raise SelectionError(
                    "unknown section",
                    where=f"{where}.{key}",
                    expected="/".join(self._sections),
                    got=repr(key),
                )
        for section in self.sections:
            if section.id not in selections:
                raise SelectionError(
                    "section missing",
                    where=f"{where}.{section.id}",
                    expected="a selection",
                    got="nothing",
                )
            section.validate(selections[section.id], where=f"{where}.{section.id}")
        return selections

    def local_date(self, now):
        """The calendar date of an aware datetime in the election's time zone."""
        if now.tzinfo is None:
            raise ElectionError("naive datetime", where="now", expected="a time zone", got="none")
        return now.astimezone(zoneinfo.ZoneInfo(self.window["timezone"])).date()

    def check_open(self, now):
        """Raise ElectionError unless `now` falls inside the voting window (dates inclusive)."""
        day = self.local_date(now).isoformat()
        if not self.window["opens"] <= day <= self.window["closes"]:
            raise ElectionError(
                "voting is closed",
                where="window",
                expected=f"{self.window['opens']} to {self.window['closes']}",
                got=day,
            )
        return datetime.date.fromisoformat(day)


# What read_package may raise, for callers that report any unreadable package the same way.
PACKAGE_ERRORS = (CanonicalError, ElectionError, SignatureError)
