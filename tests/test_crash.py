"""Power-cut safety: a real process SIGKILLed at random moments during bursts of casts.

Kills land mid-burst by construction, whatever the machine's load: the child casts without end
and the parent kills it only after reading K receipts of the current burst (K random), then
after a random pause so the kill may fall anywhere inside a cast. Every ballot whose receipt the child printed (it prints only after `cast` returned) must be in the
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
K_MAX = 60  # receipts read before a kill, at most (the child casts on regardless)

CHILD = r"""
import sys
from datetime import datetime
sys.path[:0] = [sys.argv[4], sys.argv[4] + "/tests"]
from fixtures_kiosk import demo_selections, resident
from kiosk.store import KioskStore

home, base, now = sys.argv[1], int(sys.argv[2]), datetime.fromisoformat(sys.argv[3])
store = KioskStore.open(home, now=now)
print("ready", flush=True)
n = base
while True:  # the burst never ends by itself: only the parent's SIGKILL stops it
    n += 1
    r = store.cast(demo_selections(store, n), identity=resident(n), lang="fr", now=now,
                   clock="agent")
    print(r.ballot_id, r.seq, r.hash, flush=True)
"""
STARTUP_KILLS = 3  # rounds killed while the child starts, opens and re-verifies the chain


def _run_and_kill(home, base, rng, *, at_startup):
    """Run a child casting without end; SIGKILL it; return the receipts it printed in full."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(home), str(base), KIOSK_NOW.isoformat(), str(ROOT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    seen = []
    if at_startup:
        time.sleep(rng.uniform(0.0, 0.5))  # while it starts, opens and verifies (or just after)
    else:
        assert child.stdout.readline() == b"ready\n", child.stderr.read().decode()
        for _ in range(rng.randint(1, K_MAX)):  # K receipts of this burst, K random
            line = child.stdout.readline()
            assert line.endswith(b"\n"), child.stderr.read().decode()
            seen.append(line)
        time.sleep(rng.uniform(0.0, 0.01))  # anywhere inside the next casts
    child.send_signal(signal.SIGKILL)
    out, err = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, err.decode()
    lines = b"".join(seen + [out]).decode().split("\n")[:-1]  # only complete lines
    return [line.split() for line in lines if line != "ready"]


@pytest.mark.slow
def test_receipts_survive_sigkill_during_bursts(store_home):
    store = KioskStore.open(store_home, now=KIOSK_NOW)
    store.open_session(KIOSK_NOW, clock="agent")
    store.close()
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    promised = {}
    startup = set(rng.sample(range(ROUNDS), STARTUP_KILLS))
    killed_mid_burst = 0
    for round_ in range(ROUNDS):
        receipts = _run_and_kill(
            store_home, 100_000 * (round_ + 1), rng, at_startup=round_ in startup
        )
        print(f"round {round_}: {len(receipts)} receipts before the kill")
        killed_mid_burst += len(receipts) > 0
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
    # By construction: every round but the startup ones read receipts before its kill.
    assert killed_mid_burst >= ROUNDS - STARTUP_KILLS, "the kills never landed inside a burst"


HTTP_ROUNDS = 6
HTTP_K_MAX = 4  # receipts shown before a kill, at most: each vote is several page loads


def _vote_until_refused(url, election, base, codes, errors, progress):
    """Vote without end until the server is gone; count each receipt shown in `progress`."""
    from fixtures_kiosk import HttpVoter, resident

    n = base
    while True:
        n += 1
        try:
            code, _ms = HttpVoter(url, timeout=5).vote(election, resident(n), n)
        except (OSError, http.client.HTTPException):
            return  # the server is gone (refused, reset or cut mid-answer): the burst ends here
        except Exception as exc:  # noqa: BLE001 - anything else is a failure, asserted below
            errors.append(exc)
            return
        codes.append(code)
        progress.release()


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
    startup = rng.randrange(HTTP_ROUNDS)  # one round killed before any vote can go through
    for round_ in range(HTTP_ROUNDS):
        live = KioskServer(home)  # answers /healthz 200 only once the chain re-verified
        store = KioskStore.open(home, now=now)
        election, receipt_key = store.election, store.receipt_key
        store.close()
        codes, errors, progress = [], [], threading.Semaphore(0)
        voter = threading.Thread(
            target=_vote_until_refused,
            args=(live.url, election, 100_000 * (round_ + 1), codes, errors, progress),
        )
        voter.start()
        if round_ == startup:
            time.sleep(rng.uniform(0.0, 0.3))
        else:  # the others: after K receipts (K random), so every such kill lands mid-burst
            for _ in range(rng.randint(1, HTTP_K_MAX)):
                assert progress.acquire(timeout=120), f"no vote went through: {errors}"
            time.sleep(rng.uniform(0.0, 0.2))  # anywhere inside the next vote's requests
        live.kill()
        voter.join(timeout=30)
        live.stop()
        # Nothing a resident typed reaches the server's output (its log) in clear.
        assert "etcheverry" not in live.output.lower()
        assert errors == []
        print(f"http round {round_}: {len(codes)} receipts before the kill")
        if round_ != startup:
            assert codes, "a kill did not land after a receipt"
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
    assert len(promised) >= HTTP_ROUNDS - 1, "the server was killed before votes went through"
    # Neither the database, its WAL, nor any other file of the kiosk holds a name in clear.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes().lower()
            assert b"etcheverry" not in data, f"a resident's name is in {path}"
