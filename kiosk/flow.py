"""Server-side state of one resident's way through, kept in memory and never on disk.

The kiosk runs as one process (waitress, threads), so one dict holds every flow; a restart
forgets them all, which is what a power cut in the middle of a vote should do.
"""

import secrets
import threading
import time


class Flows:
    """Flow states keyed by a random id held in the session; each expires after `idle` seconds."""

    def __init__(self, idle, *, clock=time.monotonic):
        self.idle = idle
        self.clock = clock
        self._lock = threading.Lock()
        self._flows = {}

    def new(self):
        """Start a flow; return its id."""
        flow_id = secrets.token_urlsafe(24)
        with self._lock:
            self._sweep()
            self._flows[flow_id] = {"touched": self.clock(), "data": {}}
        return flow_id

    def get(self, flow_id):
        """The flow's data (a dict to update in place), or None when unknown or expired."""
        if not flow_id:
            return None
        with self._lock:
            self._sweep()
            entry = self._flows.get(flow_id)
            if entry is None:
                return None
            entry["touched"] = self.clock()
            return entry["data"]

    def drop(self, flow_id):
        """Forget a flow and everything it held."""
        with self._lock:
            entry = self._flows.pop(flow_id, None)
            if entry is not None:
                entry["data"].clear()

    def __len__(self):
        with self._lock:
            self._sweep()
            return len(self._flows)

    def _sweep(self):
        # The server-side half of the idle reset: works with JavaScript off.
        limit = self.clock() - self.idle
        for flow_id in [k for k, v in self._flows.items() if v["touched"] < limit]:
            self._flows.pop(flow_id)["data"].clear()
