"""Link session figures over an in-memory link paced like BLE (CPython, virtual time).

Pacing model: one connection event every 15 ms; each event carries up to N = 6 frames
each way. N comes from LE 1M PHY airtime with 251-byte link-layer payloads (ATT MTU 247:
a 244-byte frame + 3 bytes ATT + 4 bytes L2CAP): a full data PDU is 265 bytes on air =
2120 us, then T_IFS 150 us, the peer's empty PDU 80 us and T_IFS 150 us: 2.5 ms a frame,
6 in a 15 ms event. Frames a side queues while handling an event go out at the next
event at the earliest (a Python stack does not answer within T_IFS); the transport holds
N frames per direction (send_frame returns False past that).

Figures:
- session_overhead_pct_model: (3-byte header of every data frame + every byte of every ack,
  keepalive and other control frame, both directions) / data payload bytes, over a
  bulk transfer of file messages cut into full frames at MTU 247. Target <= 3%.
- session_resume_intervals_model: connection intervals from the event that completes the hello
  exchange after a reconnect to the event that delivers the first retransmitted
  message. Target <= 2.
- session_goodput_ratio_model: bulk payload delivered per event / (N x 241 bytes).
The first two are re-measured end to end over the simulated radio as link_overhead_pct
and link_resume_intervals (bench/bench_link_e2e.py).
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from sim import mirror  # noqa: E402

mirror.install()

from firmware.protocol.channels import EVENTS, FILE  # noqa: E402
from firmware.protocol.frame import F_CTRL, HEADER_LEN  # noqa: E402
from firmware.protocol.session import OPEN, Session  # noqa: E402
from firmware.runtime.clock import VirtualClock  # noqa: E402

INTERVAL_MS = 15
FRAMES_PER_EVENT = 6
MTU = 247
PAYLOAD = MTU - 6  # frame payload bytes at this MTU


class PacedLink:
    def __init__(self, seed=1):
        self.clock = VirtualClock(seed)
        self.q = ([], [])
        self.up = False
        self.events = 0
        self.tap = None
        self.got = ([], [])
        self.s = [self._session(0, "glasses", 11), self._session(1, "host", 22)]

    def _session(self, side, role, sid):
        def send_frame(fr):
            if not self.up or len(self.q[side]) >= FRAMES_PER_EVENT:
                return False
            b = bytes(fr)
            self.q[side].append(b)
            if self.tap is not None:
                self.tap(side, b)
            return True

        def on_message(ch, obj):
            self.got[side].append((self.events, ch, obj))  # received by side

        return Session(role, self.clock, "bench", [], send_frame, on_message,
                       lambda k, d: None, session_id=sid)

    def connect(self):
        self.up = True
        for s in self.s:
            s.link_up(MTU)

    def disconnect(self):
        self.up = False
        for q in self.q:
            q.clear()
        for s in self.s:
            s.link_down()

    def event(self):
        """One connection event, then time runs (with timers) to the next one."""
        self.events += 1
        batches = [q[:FRAMES_PER_EVENT] for q in self.q]  # what was queued before it
        for side in (1, 0):  # the central (host) speaks first
            del self.q[side][:len(batches[side])]
            for fr in batches[side]:
                self.s[1 - side].feed(fr)
        for s in self.s:
            s.writable()
        end = self.clock.elapsed_ms() + INTERVAL_MS
        while True:
            waits = [w for w in (s.poll() for s in self.s) if w >= 0]
            left = end - self.clock.elapsed_ms()
            if left <= 0:
                return
            step = min(waits + [left])
            self.clock.advance_ms(step if step > 0 else 1)


def overhead_and_goodput(n_msgs=400):
    link = PacedLink(seed=3)
    link.connect()
    while not all(s.state == OPEN for s in link.s):
        link.event()
    counts = {"data_frames": 0, "payload": 0, "ctrl_bytes": 0, "other": 0}

    def tap(side, fr):
        if fr[0] & F_CTRL:
            counts["ctrl_bytes"] += len(fr)
        elif fr[0] >> 4 == FILE:
            counts["data_frames"] += 1
            counts["payload"] += len(fr) - HEADER_LEN
            if len(fr) != MTU - 3:
                counts["other"] += 1  # a frame that is not full
        else:
            counts["ctrl_bytes"] += len(fr)  # link messages (none expected once open)

    link.tap = tap
    chunk = bytes(range(256)) * 4
    body = chunk[:4 * PAYLOAD - 3]  # CBOR adds a 3-byte head: exactly 4 full frames
    sent = 0
    start = link.events
    while len([g for g in link.got[1] if g[1] == FILE]) < n_msgs:
        while sent < n_msgs and link.s[0].send(FILE, body):
            sent += 1
        link.event()
    events = link.events - start
    assert counts["other"] == 0, "bulk frames were not all full"
    overhead = 100.0 * (counts["data_frames"] * HEADER_LEN + counts["ctrl_bytes"]) / \
        counts["payload"]
    goodput = n_msgs * len(body) / (events * FRAMES_PER_EVENT * PAYLOAD)
    return round(overhead, 2), round(goodput, 3)


def resume_intervals():
    link = PacedLink(seed=5)
    link.connect()
    while not all(s.state == OPEN for s in link.s):
        link.event()
    sent_seqs = set()
    link.tap = lambda side, fr: sent_seqs.add(fr[1] | fr[2] << 8) \
        if side == 0 and fr[0] >> 4 == EVENTS and not fr[0] & F_CTRL else None
    for i in range(40):
        link.s[0].send(EVENTS, {"n": i, "text": "notification %d" % i})
    link.event()
    link.event()  # some delivered, more in the transport: then the link drops
    before = len(link.got[1])
    lost = sent_seqs - set(range(before))  # sent, never delivered (seq n carries message n)
    assert lost, "nothing was in flight when the link dropped"
    link.tap = None
    link.disconnect()
    for _ in range(10):
        link.clock.advance_ms(INTERVAL_MS)
        for s in link.s:
            s.poll()
    link.connect()
    hello_done = None
    while True:
        link.event()
        if hello_done is None and all(s.state == OPEN for s in link.s):
            hello_done = link.events
        if len(link.got[1]) > before:
            ev, _, msg = link.got[1][before]
            assert msg["n"] in lost, "the first message after the resume was not a resend"
            assert link.s[0].stats()["retransmits"] > 0
            return ev - hello_done


def run():
    overhead, goodput = overhead_and_goodput()
    return {
        "session_overhead_pct_model": overhead,
        "session_resume_intervals_model": resume_intervals(),
        "session_goodput_ratio_model": goodput,
    }


if __name__ == "__main__":
    for k, v in run().items():
        print("%s: %s" % (k, v))
