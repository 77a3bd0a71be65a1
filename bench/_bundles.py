"""Signed device bundles for the benches (real enrollment, real signatures, mini election)."""

import random
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [p for p in (str(ROOT), str(ROOT / "tests")) if p not in sys.path]

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey  # noqa: E402

NOW = datetime(2026, 5, 16, 12, 0, tzinfo=UTC)
PLAIN_SELECTIONS = [
    {"dept": ["d1", "d3"], "canton-1": {"c1": 3, "c2": 2}},
    {"dept": ["d2"], "canton-1": {"c2": 1}},
]
DEPT = ["d1", "d2", "d3"]


def _selection(rng):
    """A random valid ballot of the mini election: 0-2 approvals, up to 5 points (3 per project)."""
    dept = sorted(rng.sample(DEPT, rng.choices((0, 1, 2), (1, 4, 5))[0]))
    c1 = rng.randint(0, 3)
    c2 = rng.randint(0, min(3, 5 - c1))
    canton = {k: v for k, v in (("c1", c1), ("c2", c2)) if v}
    return {"dept": dept, "canton-1": canton}


def _sealer(election, rng):
    """seal(tag) -> sealed hex, one X25519 exchange per device instead of one per ballot.

    Reusing the ephemeral key under the fixed nonce is unsafe for real voters but opens exactly
    like tags.seal_tag, and sealing each ballot for real would double the set-up (~220 us each).
    """
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    from sync import crypto

    ephemeral = X25519PrivateKey.from_private_bytes(rng.randbytes(32))
    eph_pub = crypto.public_bytes(ephemeral)
    recipient = bytes(election.central_key)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    aead = ChaCha20Poly1305(crypto._seal_key(shared, eph_pub, recipient, "urne/1/voter-seal"))
    aad = election.id.encode("ascii")
    return lambda tag: (eph_pub + aead.encrypt(crypto._NONCE, tag, aad)).hex()


def make_device(root, name, n, seed, *, realistic=False, void_every=0, duplicate_every=0):
    """Write one device's bundle of n ballots; (path, ballots, voids, duplicate pairs).

    Plain (bench/import.py): one sealed tag for the whole device, two alternating selections,
    one time. Realistic (bench/tally.py): a distinct voter per ballot, random selections, times
    over the day; every `void_every`-th ballot voided, every `duplicate_every`-th ballot cast
    again by the voter of the ballot before it (a duplicate pair, held under the "hold" policy).
    """
    from fixtures_central import make_central_kit  # noqa: F401 - loads the fixtures' helpers
    from fixtures_records import enroll_device, mini_election

    from sync import enroll, records, tags
    from sync.bundle import write_bundle

    election, package, authority, central, secret = mini_election(1)
    home = Path(root) / "devices" / name
    home.mkdir(parents=True)
    enroll_device(home, election, authority, secret, device=name, epoch=1, seed=seed)
    device_key, cert, opened = enroll.load_device(home, election)
    voter_key, _ = tags.election_keys(opened)
    rng = random.Random(seed)
    common = {"election_id": election.id, "device": name, "epoch": 1}
    prev = records.genesis(election.id, name, 1)
    counts = {"ballots": 0, "voids": 0, "duplicates": 0}

    # Plain: one real sealed tag per device (the import never opens tags).
    tag = tags.voter_tag(voter_key, {"last_name": name, "first_name": "A"})
    sealed = tags.seal_tag(
        election.central_key,
        tag,
        election.id,
        ephemeral=X25519PrivateKey.from_private_bytes(rng.randbytes(32)),
    )
    seal = _sealer(election, rng) if realistic else None

    def signed(body):
        nonlocal prev
        body_bytes, sig = records.sign_record(device_key, body)
        prev = records.record_hash(body_bytes)
        return body_bytes, sig

    def chain():
        nonlocal sealed
        seq = 0
        last_voided = False
        for k in range(1, n + 1):
            seq += 1
            voided = bool(void_every and k % void_every == 0)
            if realistic:
                quarter = 8 * 4 + (k - 1) * 44 // n  # 08:00 to 18:45
                time = f"2026-05-16T{quarter // 4:02d}:{quarter % 4 * 15:02d}"
                # Halfway between two multiples: never next to a voided ballot (void_every | k).
                again = duplicate_every and k % duplicate_every == duplicate_every // 2 + 1
                if not again or last_voided or voided:
                    who = {"last_name": f"{name} voter {k}", "first_name": "A"}
                    sealed = seal(tags.voter_tag(voter_key, who))
                else:
                    counts["duplicates"] += 1
                selections = _selection(rng)
            else:
                time, selections = "2026-05-16T10:00", PLAIN_SELECTIONS[seq % 2]
            ballot = rng.randbytes(16).hex()
            yield signed(records.new_record(
                "ballot", **common, seq=seq, prev=prev, ballot=ballot, selections=selections,
                channel="kiosk", lang="fr", time=time, clock="agent", voter=sealed,
            ))  # fmt: skip
            counts["ballots"] += 1
            last_voided = voided
            if voided:
                seq += 1
                counts["voids"] += 1
                yield signed(records.new_record(
                    "void", **common, seq=seq, prev=prev, ballot=ballot, reason="printer jam",
                    time=time,
                ))  # fmt: skip

    out = Path(root) / "bundles" / f"{name}.urne"
    out.parent.mkdir(exist_ok=True)
    write_bundle(
        out,
        certificate_bytes=cert.bytes,
        records=chain(),
        device_key=device_key,
        now=NOW,
        cumulative=True,
    )
    return str(out), counts["ballots"], counts["voids"], counts["duplicates"]


def make_device_job(job):
    """make_device(*job) for a process pool; only the path (bench/import.py's jobs)."""
    return make_device(*job)[0]


def make_device_counted(job):
    """make_device(root, name, n, seed, **options) for a process pool; its 4-tuple."""
    *args, options = job
    return make_device(*args, **options)
