"""Runs a sans-IO link Session (firmware/protocol/session.py) inside asyncio.

The transport below is any async `write(frame: bytes)` (bleak's write without response,
or a test pipe); the driver keeps a bounded queue of frames for it, so the Session sees
backpressure (send_frame returns False) exactly as on the glasses, and calls the
Session's writable() when the queue drains. Timers: after every call into the Session
the driver asks poll() when it is needed next and schedules itself for then.

    drv = SessionDriver(write, max_frames=8)
    session = Session("host", clock, version, caps, drv.send_frame, on_message, on_event)
    drv.attach(session)          # inside the running loop
    drv.link_up(mtu) / drv.link_down() / drv.feed(frame)   (from the transport)
    drv.send(ch, obj) / drv.send_audio(pkt) / drv.consumed(ch) (from the app)
"""
import asyncio
import collections


class SessionDriver:
    def __init__(self, write, max_frames=8):
        self._write = write
        self.max_frames = max_frames
        self._q = collections.deque()
        self._wake = None
        self._blocked = False  # the session was told "no room"
        self._timer = None
        self._writer = None
        self.session = None
        self.write_errors = 0

    def attach(self, session):
        self.session = session
        self._wake = asyncio.Event()
        self._writer = asyncio.get_running_loop().create_task(self._drain())
        self.kick()

    def close(self):
        if self._timer is not None:
            self._timer.cancel()
        if self._writer is not None:
            self._writer.cancel()

    # ---- for the Session ---------------------------------------------------------------
    def send_frame(self, frame):
        if len(self._q) >= self.max_frames:
            self._blocked = True
            return False
        self._q.append(bytes(frame))
        self._wake.set()
        return True

    async def _drain(self):
        while True:
            while not self._q:
                self._wake.clear()
                await self._wake.wait()
            frame = self._q.popleft()
            try:
                await self._write(frame)
            except asyncio.CancelledError:
                raise
            except Exception:  # the transport failed: its disconnect will follow
                self.write_errors += 1
            if self._blocked:
                self._blocked = False
                self.session.writable()
                self.kick()

    # ---- timers ------------------------------------------------------------------------
    def kick(self):
        """Poll the session now and schedule the next poll (nothing before attach())."""
        if self.session is None or self._wake is None:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        ms = self.session.poll()
        if ms >= 0:
            self._timer = asyncio.get_running_loop().call_later(max(ms, 1) / 1000, self.kick)

    # ---- for the transport and the app ---------------------------------------------------
    def link_up(self, mtu):
        self.session.link_up(mtu)
        self.kick()

    def link_down(self):
        self._q.clear()
        self._blocked = False
        self.session.link_down()
        self.kick()

    def feed(self, frame):
        self.session.feed(frame)
        self.kick()

    def send(self, ch, obj):
        ok = self.session.send(ch, obj)
        self.kick()
        return ok

    def send_audio(self, pkt):
        ok = self.session.send_audio(pkt)
        self.kick()
        return ok

    def consumed(self, ch):
        self.session.consumed(ch)
        self.kick()
