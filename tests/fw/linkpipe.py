# Two link Sessions joined by an in-memory pipe, for tests under CPython and MicroPython.
#
# The pipe stands in for the transport below the session (the BLE link): it is ordered
# and lossless while connected; a disconnect loses every frame still in it. `room`
# bounds the frames queued per direction (send_frame returns False past it).
from firmware.protocol.session import OPEN, Session
from firmware.runtime.clock import VirtualClock

GLASSES = 0
HOST = 1


class Side:
    def __init__(self):
        self.got = []  # (channel, message) as delivered
        self.events = []  # (kind, detail)
        self.hold = False  # on_message returns False (keeps the credit)
        self.route = None  # route(ch, obj) -> True: taken elsewhere (e.g. by RPC), not kept

    def on_message(self, ch, obj):
        if self.route is not None and self.route(ch, obj):
            return True
        self.got.append((ch, obj))
        return not self.hold

    def on_event(self, kind, detail):
        self.events.append((kind, detail))

    def kinds(self):
        return [e[0] for e in self.events]


class Pipe:
    def __init__(self, seed=1, room=None, versions=("fw-1.0", "host-1.0"), clock=None,
                 glasses_kw=None, host_kw=None, caps=(("rpc",), ("rpc", "asr"))):
        self.clock = clock if clock is not None else VirtualClock(seed)
        self.room = room
        self.q = ([], [])  # frames in flight from side 0 / side 1
        self.up = False
        self.sent = [0, 0]  # frames each side handed to the pipe
        self.tap = None  # tap(side, frame bytes) sees every frame handed to the pipe
        self.drop = None  # drop(side, frame bytes) -> True: the frame is lost in the pipe
        self.sides = [Side(), Side()]
        self.s = [
            Session("glasses", self.clock, versions[0], caps[0], self._sender(0),
                    self.sides[0].on_message, self.sides[0].on_event, board="test-board",
                    session_id=1001, **(glasses_kw or {})),
            Session("host", self.clock, versions[1], caps[1], self._sender(1),
                    self.sides[1].on_message, self.sides[1].on_event, board="host",
                    session_id=2002, **(host_kw or {})),
        ]

    def _sender(self, side):
        def send_frame(frame):
            q = self.q[side]
            if not self.up or (self.room is not None and len(q) >= self.room):
                return False
            b = bytes(frame)
            self.sent[side] += 1
            if self.tap is not None:
                self.tap(side, b)
            if self.drop is None or not self.drop(side, b):
                q.append(b)
            return True
        return send_frame

    def replace(self, side, session_id, **kw):
        """Give a side a brand-new Session (what a firmware reset does)."""
        sd = self.sides[side] = Side()
        role = ("glasses", "host")[side]
        s = self.s[side] = Session(role, self.clock, "fw-1.1", ("rpc",), self._sender(side),
                                   sd.on_message, sd.on_event, session_id=session_id, **kw)
        return s

    def connect(self, mtu=247):
        self.up = True
        self.s[0].link_up(mtu)
        self.s[1].link_up(mtu)

    def disconnect(self):
        self.up = False
        self.q[0].clear()
        self.q[1].clear()
        self.s[0].link_down()
        self.s[1].link_down()

    def inject(self, to_side, frame):
        """Put a frame in the pipe as if the other side had sent it."""
        self.q[1 - to_side].append(frame)

    def step(self, max_frames=-1):
        """Deliver up to max_frames queued frames each way (-1: all queued now);
        returns how many moved."""
        moved = 0
        for side in (0, 1):
            q = self.q[side]
            n = len(q) if max_frames < 0 else min(max_frames, len(q))
            if n == 0:
                continue
            batch = q[:n]
            del q[:n]
            for f in batch:
                self.s[1 - side].feed(f)
            moved += n
            self.s[side].writable()
        return moved

    def flush(self, limit=100000):
        for _ in range(limit):
            if not self.step():
                return
        raise AssertionError("the pipe never went quiet")

    def run(self, ms):
        """Advance virtual time by ms, polling both sides and delivering everything."""
        clock = self.clock
        end = clock.elapsed_ms() + ms
        while True:
            self.flush()
            waits = [self.s[0].poll(), self.s[1].poll()]
            self.flush()
            left = end - clock.elapsed_ms()
            if left <= 0:
                return
            w = [x for x in waits if x >= 0]
            dt = min(w) if w else left
            if dt <= 0:
                dt = 1
            clock.advance_ms(dt if dt < left else left)


def open_pipe(**kw):
    """A Pipe (kw as Pipe's) whose two sessions have said hello and are open."""
    p = Pipe(**kw)
    p.connect()
    p.run(5)
    assert p.s[0].state == OPEN and p.s[1].state == OPEN
    return p
