"""The glasses' power events on the phone (firmware/power/service.py): `attach(phone)`.

Before they turn off for a flat battery the glasses send EVENT "power" {"state": "off",
"why": "battery", "pct", "volts", "at"}; the phone then says once what happened and when
("glasses off: battery empty, last seen 14:02 at 2 %"), keeps it on `phone.glasses_off`
(the host's state and `glasses status` show it while they are away) and keeps looking
for them without logging every attempt. When they are back they send {"state": "on"}.

IntervalPolicy: the connection interval follows the traffic, as a phone's stack does
(docs/power.md, "Longer on stock firmware"): the slow end of the range the glasses prefer
(30 ms) once the link has carried nothing but keepalives for IDLE_S, the fast end (15 ms)
as soon as audio or data flows. On stock MicroPython the glasses cannot ask for it
themselves (no call for a connection parameter update), and each connection event costs
them a radio wake.
"""
import asyncio
import logging
import time

from firmware.protocol.channels import EV_OPEN

log = logging.getLogger(__name__)

WHY = {"battery": "battery empty"}


def describe(off, now=None):
    """'glasses off: battery empty, last seen 14:02 at 2 %' for a phone.glasses_off."""
    when = time.strftime("%H:%M", time.localtime(off["seen"]))
    return "glasses off: %s, last seen %s at %s %%" % (
        WHY.get(off.get("why"), off.get("why") or "unknown reason"), when, off.get("pct"))


class PowerWatch:
    def __init__(self, phone, clock=time.time):
        self.phone = phone
        self.clock = clock
        self.offs = 0
        phone.on("event", self.on_event)

    def on_event(self, topic, payload):
        if topic != "power" or not isinstance(payload, dict):
            return
        p = self.phone
        if payload.get("state") == "off":
            self.offs += 1
            p.glasses_off = {"why": str(payload.get("why")), "pct": payload.get("pct"),
                             "seen": self.clock()}
            p.announce(describe(p.glasses_off))
        elif payload.get("state") == "on" and p.glasses_off is not None:
            off = p.glasses_off
            p.glasses_off = None
            p.announce("glasses back on (off for %s)" % _span(self.clock() - off["seen"]))


def _span(s):
    s = int(max(0, s))
    if s < 120:
        return "%d s" % s
    if s < 7200:
        return "%d min" % (s // 60)
    return "%.1f h" % (s / 3600)


class IntervalPolicy:
    IDLE_S = 5.0  # nothing but keepalives this long: the slow interval
    CHECK_S = 1.0
    BUSY_BYTES = 256  # payload bytes in a CHECK_S that count as traffic (not keepalives)

    def __init__(self, phone):
        self.phone = phone
        self.idle = False  # the slow interval was granted
        self.changes = 0
        self._timer = None  # the next check (a loop timer: nothing pending at exit)
        self._tasks = set()  # interval requests under way
        self._last = 0  # the goodput seen at the last check
        self._quiet_s = 0.0
        phone.on("session", self._on_session)
        phone.on("audio", self._on_audio)
        if phone.is_open():  # attached to a phone already linked
            self._on_session(EV_OPEN, None)

    def _goodput(self):
        st = self.phone.session.stats()
        return st["goodput_in"] + st["goodput_out"]

    def _on_session(self, kind, detail):
        if kind != EV_OPEN:
            return
        self.idle = False  # a new connection starts at the fast end
        self._quiet_s = 0.0
        self._last = self._goodput()
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.CHECK_S, self._check)

    def _on_audio(self, pkt):
        self._quiet_s = 0.0
        if self.idle:
            self._request(False)  # at once: the wearer is speaking

    def _request(self, idle):
        self.idle = idle
        t = asyncio.get_running_loop().create_task(self._set(idle))
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    async def _set(self, idle):
        if await self.phone.prefer_interval(idle):
            self.changes += 1
            log.info("power: connection interval to the %s end (%s)",
                     "slow" if idle else "fast", "idle" if idle else "traffic")
        else:
            self.idle = False

    def _check(self):
        p = self.phone
        self._timer = None
        if p.stopped:
            return
        self._timer = asyncio.get_running_loop().call_later(self.CHECK_S, self._check)
        if not p.is_open() or self._tasks:
            return
        g = self._goodput()
        busy = g - self._last > self.BUSY_BYTES
        self._last = g
        self._quiet_s = 0.0 if busy else self._quiet_s + self.CHECK_S
        if busy and self.idle:
            self._request(False)
        elif not self.idle and self._quiet_s >= self.IDLE_S:
            self._request(True)


def attach(phone):
    watch = PowerWatch(phone)
    watch.interval = IntervalPolicy(phone)
    return watch
