"""Power-cut safety: a real process SIGKILLed at random moments during bursts of casts.

Every ballot whose receipt the child printed (it prints only after `cast` returned) must be in the
database after restart, the chain must re-verify (KioskStore.open does it), and nothing may be
half-written (the voter-tag set matches the ballots: checked by the same verification).
"""

import http.client
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures_kiosk import KIOSK_NOW

from kiosk.store import KioskStore

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 12
BURST = 200

CHILD = r"""
import sys
from datetime import datetime
sys.path[:0] = [sys.argv[4], sys.argv[4] + "/tests"]
from fixtures_kiosk import demo_selections, resident
from kiosk.store import KioskStore

home, base, now = sys.argv[1], int(sys.argv[2]), datetime.fromisoformat(sys.argv[3])
store = KioskStore.open(home, now=now)
print("ready", flush=True)
for n in range(base, base + int(sys.argv[5])):
    r = store.cast(demo_selections(store, n), identity=resident(n), lang="fr", now=now,
                   clock="agent")
    print(r.ballot_id, r.seq, r.hash, flush=True)
"""


def _run_and_kill(home, base, rng):
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            str(home),
            str(base),
            KIOSK_NOW.isoformat(),
            str(ROOT),
            str(BURST),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    if rng.random() < 0.15:
        time.sleep(rng.uniform(0.0, 0.8))  # sometimes while it starts, opens and verifies
    else:
        child.stdout.readline()  # "ready": then somewhere inside the burst
        time.sleep(rng.uniform(0.0, 0.9))
    child.send_signal(signal.SIGKILL)
    out, err = child.communicate(timeout=30)
    assert child.returncode in (-signal.SIGKILL, 0), err.decode()
    lines = out.decode().split("\n")[:-1]  # only complete lines
    return [line.split() for line in lines if line != "ready"]


@pytest.mark.slow
def test_receipts_survive_sigkill_during_bursts(store_home):
    store = KioskStore.open(store_home, now=KIOSK_NOW)
    store.open_session(KIOSK_NOW, clock="agent")
    store.close()
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    promised = {}
    killed_mid_burst = 0
    for round_ in range(ROUNDS):
        receipts = _run_and_kill(store_home, 1000 * (round_ + 1), rng)
        print(f"round {round_}: {len(receipts)} receipts before the kill")
        killed_mid_burst += 0 < len(receipts) < BURST
        promised.update({ballot: (int(seq), h) for ballot, seq, h in receipts})
        store = KioskStore.open(store_home, now=KIOSK_NOW)  # integrity + whole chain, or raises
        try:
            stored = dict(
                (ballot, (seq, h))
                for ballot, seq, h in store.db.execute(
                    "SELECT ballot_id, seq, hash FROM records WHERE kind = 'ballot'"
                )
            )
            missing = {b: v for b, v in promised.items() if stored.get(b) != v}
            assert missing == {}, f"round {round_}: receipts given but ballots lost: {missing}"
            assert store.chain.ballots == len(stored) >= len(promised)
        finally:
            store.close()
    assert killed_mid_burst >= ROUNDS // 3, "the kills never landed inside a burst"


HTTP_ROUNDS = 6


def _vote_until_refused(url, election, base, codes, errors, first):
    from fixtures_kiosk import HttpVoter, resident

    for n in range(base, base + BURST):
        try:
            code, _ms = HttpVoter(url, timeout=5).vote(election, resident(n), n)
        except (OSError, http.client.HTTPException):
            return  # the server is gone (refused, reset or cut mid-answer): the burst ends here
        except Exception as exc:  # noqa: BLE001 - anything else is a failure, asserted below
            errors.append(exc)
            return
        codes.append(code)
        first.set()


@pytest.mark.slow
def test_receipts_survive_sigkill_of_the_http_server(tmp_path):
    import datetime
    import threading

    from fixtures_kiosk import KioskServer

    from kiosk.setup import setup_demo
    from sync import tags

    now = datetime.datetime.now(datetime.UTC)
    home = tmp_path / "kiosk"
    setup_demo(home, now=now)  # enrolled, session open
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    promised = []
    for round_ in range(HTTP_ROUNDS):
        live = KioskServer(home)  # answers /healthz 200 only once the chain re-verified
        store = KioskStore.open(home, now=now)
        election, receipt_key = store.election, store.receipt_key
        store.close()
        codes, errors, first = [], [], threading.Event()
        voter = threading.Thread(
            target=_vote_until_refused,
            args=(live.url, election, 1000 * (round_ + 1), codes, errors, first),
        )
        voter.start()
        if round_ % 3:  # most rounds: once votes flow, at a random moment of one
            first.wait(timeout=30)
        time.sleep(rng.uniform(0.0, 1.5))
        live.kill()
        voter.join(timeout=30)
        live.stop()
        # Nothing a resident typed reaches the server's output (its log) in clear.
        assert "etcheverry" not in live.output.lower()
        assert errors == []
        print(f"http round {round_}: {len(codes)} receipts before the kill")
        promised += codes
        store = KioskStore.open(home, now=now)
        try:
            stored = {
                tags.receipt_code(receipt_key, ballot)
                for (ballot,) in store.db.execute(
                    "SELECT ballot_id FROM records WHERE kind = 'ballot'"
                )
            }
        finally:
            store.close()
        lost = [code for code in promised if code not in stored]
        assert lost == [], f"round {round_}: receipts shown but ballots lost: {lost}"
    assert len(promised) >= 2, "the server was always killed before a vote went through"
    # Neither the database, its WAL, nor any other file of the kiosk holds a name in clear.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes().lower()
            assert b"etcheverry" not in data, f"a resident's name is in {path}"
