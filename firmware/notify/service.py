# Notifications, the feature: the NotifyService (core.py: the centre, the action outbox,
# the gesture dispatcher) on the board's flash Store, its presenter driving the app's LED
# and haptic players (firmware/outputs.py: app.leds, app.motor) and the voice
# (app.voice.chime / say, when the board has one), replies and actions to the phone on the
# events channel, the notify message kinds routed from the link, the link's up/down, the
# wearer (app.senses calls on_wear), and the phone's local time for quiet hours
# (TIME_REQ / TIME, firmware/notify/localtime.py).
#
#   app.notify.waiting()        an unread notification waits (a touch tap reads it)
#   app.notify.on_gesture(k, s) a gesture's action on the current notification
#   app.notify.on_wear(worn, r) the wear detector's verdict
#   app.notify.feedback(name)   confirm / dismiss / nope / error (chime + haptic)
#   status source "notifications"
#
# Nod / shake: while the current notification asks a question and was presented to the
# wearer, app.senses.want_head("ask", HEAD_WINDOW_MS) keeps the gyro on; an answer,
# another notification, taking the glasses off or the window's end turns it off.
from micropython import const

from firmware.protocol import kinds
from firmware.protocol.channels import CONTROL, EVENTS
from firmware.notify import wire as W
from firmware.notify.center import NEW, READ
from firmware.notify.localtime import LocalTime
from firmware.notify.presentation import TAP_HINTS, Presenter
from firmware.notify.core import NotifyService
from firmware.runtime import sched as _s

HEAD_WINDOW_MS = const(120000)  # how long after presenting a question nod / shake count
CLOCK_CHECK_MS = const(3600000)  # re-anchor the local time, ask again when stale
_ROUTED = (W.T_NOTIFY, W.T_ACK, W.T_RULES, W.T_DND)


class LinkDown(OSError):
    pass


class Notify:
    def __init__(self, app, store):
        self.app = app
        s = app.sched
        self.time = LocalTime(s.clock)
        self.leds = app.leds  # the app's players (firmware/outputs.py), or None
        self.motor = app.motor
        self.p = Presenter(led=self._led, haptic=self._haptic, chime=self._chime,
                           speak=self._speak,
                           hints=app.config.get("notify_tap_hints", TAP_HINTS))
        self.svc = NotifyService(store, self.p, send=self._send,
                                 local_minute=self.time.local_minute, log=app.log)
        self.shedding = False
        self._ask = None  # (seq, state) of the question the head window is open for
        self.spoken = 0
        self.chimes = 0
        self.time_requests = 0

    # ---- the presenter's outputs ---------------------------------------------------------
    def _voice(self):
        return self.app.voice

    def _led(self, name):
        if self.leds is not None:
            self.leds.show("off" if self.shedding else name)

    def _haptic(self, name):
        if self.motor is not None:
            self.motor.play(name)

    def _chime(self, name):
        v = self._voice()
        if v is not None:
            self.chimes += 1
            v.chime(name)

    def _speak(self, text):
        v = self._voice()
        if v is not None:
            self.spoken += 1
            v.say(text)

    def _send(self, msg):
        link = self.app.link
        if link is None:
            raise LinkDown("no link on this board")
        if not link.send(EVENTS, msg):
            raise LinkDown("the events outbox is full")

    def feedback(self, name):
        self.p.feedback(name)

    def shed(self, on):
        """Battery critical: no LED patterns (haptics, chimes and speech stay)."""
        self.shedding = on
        if self.leds is not None:
            self.leds.show("off" if on else self.p.led_now)

    # ---- entry points ---------------------------------------------------------------------
    def on_host(self, msg):
        out = self.svc.on_host(msg)
        self._head()
        return out

    def on_gesture(self, kind, src=None):
        self.svc.on_gesture(kind, src)
        self._head()

    def on_wear(self, worn, reason=None):
        said = self.svc.on_wear(worn, reason)
        self._head()
        return said

    def on_link(self, up):
        self.svc.on_link(up)
        if up and self.time.stale():
            self.ask_time()

    def on_time(self, msg):
        why = self.time.on_message(msg)
        wall = self.app.wall
        if why is None and wall is not None:
            try:
                wall.set(msg.get(1))
            except ValueError as e:
                why = str(e)
        if why is not None:
            self.app.log.warn("time from the phone refused: %s", why)
            link = self.app.link
            if link is not None:
                link.send(CONTROL, {kinds.K: kinds.RESULT, 1: kinds.TIME, 2: False, 3: why})

    def ask_time(self):
        link = self.app.link
        if link is not None and link.up:
            self.time_requests += 1
            link.send(CONTROL, {kinds.K: kinds.TIME_REQ})

    # ---- what the gestures ask --------------------------------------------------------------
    def waiting(self):
        """An unread notification waits: a touch tap reads it (else the tap talks)."""
        for e in self.svc.center.entries:
            if e.state != READ:
                return True
        return False

    def _head(self):
        c = self.svc.center
        e = c.current()
        key = None
        if e is not None and e.note.asks and e.state != NEW and c.worn:
            key = (e.seq, e.state)
        if key == self._ask:
            return
        self._ask = key
        senses = self.app.senses
        if senses is not None:
            senses.want_head("ask", HEAD_WINDOW_MS if key is not None else 0)

    async def clock_task(self):
        while True:
            await _s.sleep_ms(CLOCK_CHECK_MS)
            if self.time.stale():
                self.ask_time()

    def status(self):
        c = self.svc.center
        n, u = c.waiting_counts()
        return {"queued": len(c.entries), "unheard": n, "urgent": u,
                "pending_actions": len(self.svc.outbox.records), "worn": c.worn,
                "quiet": c.quiet(), "dnd": c.rules["dnd"], "local_time": self.time.hhmm(),
                "led": self.p.led_now, "current": c.current().note.id if c.entries else None}


def start(app):
    """The notification centre on the board's flash (firmware/app.py checks there is
    one). Returns it (app.notify)."""
    n = Notify(app, app.board.store)
    app.notify = n
    s = app.sched
    link = app.link
    if link is not None:
        for t in _ROUTED:
            link.route(t, n.on_host)
        link.route(kinds.TIME, n.on_time)
        link.on("up", n.on_link)
    senses = app.senses
    if senses is not None and senses.wear.worn():  # decided before this started (a
        n.on_wear(True, "sensor_fault" if senses.wear.degraded else "put_on")  # dead sensor)
    app.status("notifications", n.status)
    s.spawn(n.clock_task, name="clock", prio=_s.PRIO_BACKGROUND, restart=_s.RESTART_ON_ERROR)
    n.svc.start()  # actions a reset left unacknowledged go out again
    return n
