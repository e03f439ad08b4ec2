# Gestures, wear and battery, wired: the sensor service's samples (app topics "touch",
# "tap", "gyro", "prox", "battery", "fault") go to the recognisers of firmware/sense/, and
# what they decide goes two ways: to the phone as an EVENT on the events channel
# (app.link.event(topic, payload)) and to its local action.
#
#   event topic  payload                              local action
#   "gesture"    [kind, source]                       see route() below
#   "wear"       "put_on" | "taken_off" | "sensor_fault"   PowerPolicy, app.notify.on_wear
#   "battery"    [kind, value]: battery_low / battery_critical (percent), battery_unknown
#                (reason)                             chime + speech once, shed load
#   "fault"      [part, reason | None (recovered)]    the recogniser's safe fallback
#   "link"       "relaxed" | "normal"                 a request the phone may act on
#
# Gesture sources: a touch pad's index in board.touch, "imu" (the LSM6DSOX's tap engine),
# "head" (nod / shake from the gyro), "pads" (both pads held: forget bonds).
#
# Routing (the user's vocabulary):
#   touch tap      read the current notification if one is unread, else app.voice.talk()
#   IMU tap        app.voice.talk()
#   double tap     the current notification's first action (touch or IMU)
#   long press     dismiss all
#   nod / shake    yes / no where the current notification asks
#   swipe          next / previous notification
#   both pads held PAIR_HOLD_MS     open the pairing window (app.gatt.open_pairing(); the
#                                   board's option pairing_hold_ms, docs/security.md)
#   ... still held FORGET_HOLD_MS   forget every bonded phone (app.gatt.forget_bonds())
#
# The gyro is off unless something needs nod / shake (want_head(reason, ms): a
# notification that asks, for a while); then it runs at HEAD_HZ. While the glasses are off
# the head, or the battery is critical, it stays off.
from micropython import const

from firmware.runtime import sched as _s
from firmware.runtime.sync import Flag
from firmware.sense import gestures as G
from firmware.sense.battery import BATTERY, Battery
from firmware.sense.gestures import HEAD, Gestures
from firmware.sense.wear import OFF, STATE_NAMES, PowerPolicy, Wear

HEAD_HZ = const(52)  # gyro rate for nod / shake: >= 4 samples in the shortest swing (60 ms)
IMU_DOUBLE_MS = const(600)  # the tap engine's double-tap window (DUR=7 at 416 Hz: 538 ms)
FORGET_HOLD_MS = const(5000)  # both pads held this long: forget bonds
PAIR_HOLD_MS = const(2000)  # ... this long: the pairing window (the board may say otherwise)
TICK_MS = const(50)  # the sense task's period while a gesture is being resolved
IDLE_MS = const(2000)  # ... and while nothing is (wear debounce, head window expiry)
RELAXED_KEEPALIVE_MS = const(2000)  # below the phone's 3 s dead-peer window
_MAX_HEAD_REASONS = const(4)
_IMU_GUARD_MS = G.TOUCH["imu_guard_ms"]

# Sensor periods (ms) while the glasses are off the head or saving power. Normal ones are
# the app's config (prox_ms, touch_ms, gauge_ms).
LOW_RATES = {"prox": 2000, "touch": 300, "gauge": 30000}

# The glasses' IMU axes (sim/devices/lsm6dsox.py, boards/README.md): x along the temple,
# y to the left, z up; so pitch (nod) is gyro y and yaw (shake) gyro z.
GLASSES_HEAD = dict(HEAD)
GLASSES_HEAD["pitch_axis"] = 1
GLASSES_HEAD["yaw_axis"] = 2

_GESTURE_PARTS = ("imu", "touch")
_WEAR_PARTS = ("prox",)
_BATTERY_PARTS = ("gauge",)
_STATE_EVENTS = ("wear", "battery", "fault", "link")  # queued for the phone while away


class Senses:
    def __init__(self, app):
        self.app = app
        self.sched = app.sched
        self.clock = app.sched.clock
        self.log = app.log
        b = app.board
        self.n_pads = len(b.touch)
        # board.touch lists the pads in their physical order, front (hinge) first
        pads = tuple(range(self.n_pads)) if self.n_pads else (0,)
        self.gest = Gestures(self._emit_gesture, self._route, pads=pads, head=GLASSES_HEAD,
                             log=self.log, parts=_GESTURE_PARTS, now_ms=self.clock.ticks_ms)
        self.policy = PowerPolicy(mic=self._mic, audio_mute=self._mute,
                                  sensor_rate=self._rate, link=self._link_mode)
        self.wear = Wear(self.policy, on_change=self._on_wear, emit=self._event,
                         log=self.log, parts=_WEAR_PARTS)
        gatt = app.gatt
        cfg = dict(BATTERY)
        cfg["ota_needs_charging"] = b.has("ota_needs_charging")
        self.bat = Battery(notify_level=gatt.set_battery if gatt is not None else None,
                           chime=self._chime, speak=self._say, shed=self.shed_load,
                           emit=self._battery_event, config=cfg, log=self.log,
                           parts=_BATTERY_PARTS)
        self.flag = Flag(app.sched)
        self.shedding = False
        self.rate = "normal"
        self.link_mode = "normal"
        self.gyro_hz = 0
        self._head = {}  # reason -> tick until which it needs nod / shake
        self._imu_single = False  # an IMU single tap waits for a possible double
        self._imu_t = 0
        self._down = bytearray(self.n_pads)  # pads held now (for the two-pad hold)
        self._touch_t = 0  # last touch activity
        self._both_t = 0  # when every pad became held
        self._both = False
        self._forget_fired = False
        self._pair_fired = False
        self.pair_hold_ms = b.options.get("pairing_hold_ms", PAIR_HOLD_MS)
        # counters
        self.events = 0
        self.events_dropped = 0  # the events outbox was full
        self.events_skipped = 0  # gestures while the phone was away
        self.routed = 0
        self.no_voice = 0
        self.forgets = 0

    # ---- the sensor service's topics ------------------------------------------------------
    def listen(self):
        a = self.app
        a.on("touch", self.on_touch)
        a.on("tap", self.on_imu_tap)
        a.on("gyro", self.gest.on_gyro)
        a.on("prox", self.wear.on_prox)
        a.on("battery", self.bat.on_battery)
        a.on("fault", self.on_fault)

    def absent_at_boot(self):
        """Parts the board could not bring up get the same safe fallback as a part that
        dies: no wear sensor means "worn" (degraded), no gauge means "level unknown"."""
        b = self.app.board
        for part, present in (("prox", b.prox), ("gauge", b.gauge), ("imu", b.imu)):
            if present is None and (part != "imu" or b.has("imu")):
                self.on_fault(part, "absent at boot: %s" % b.missing.get(part, "not fitted"))

    def on_touch(self, pad, touched, t_ms):
        self.gest.on_touch(pad, touched, t_ms)
        self._touch_t = t_ms
        if 0 <= pad < self.n_pads:
            self._down[pad] = 1 if touched else 0
            both = self.n_pads >= 2
            for d in self._down:
                if not d:
                    both = False
            if both and not self._both:
                self._both_t = t_ms
                self._forget_fired = False
                self._pair_fired = False
            self._both = both
        self.flag.set()  # the sense task resolves taps and holds

    def on_imu_tap(self, kind):
        """The tap engine reports a double knock as a single then a double: hold the
        single back for the double window so a double does not also start a talk."""
        now = self.clock.ticks_ms()
        d = self.clock.ticks_diff
        if self._any_down() or (self._touch_t and d(now, self._touch_t) <= _IMU_GUARD_MS):
            return  # a finger on a pad shook the frame: the touch path has it
        if kind == "single":
            self._imu_single = True
            self._imu_t = now
            self.flag.set()
        elif kind == "double":
            self._imu_single = False
            self.gest.on_tap("double")
        else:
            self.gest.on_tap(kind)  # the recogniser counts it as a bad sample

    def _any_down(self):
        for d in self._down:
            if d:
                return True
        return False

    def on_fault(self, part, reason):
        self._event("fault", [part, reason])
        if reason is None:
            return  # recovered: the recognisers resume with the next samples
        if not (self.gest.on_fault(part, reason) or self.wear.on_fault(part, reason)
                or self.bat.on_fault(part, reason)):
            self.log.warn("%s failed (%s), and no recogniser owns it", part, reason)
        if part == "imu":
            self._imu_single = False

    # ---- events to the phone ---------------------------------------------------------------
    def _event(self, topic, payload):
        link = self.app.link
        if link is None:
            return False
        if not link.up and topic not in _STATE_EVENTS:
            self.events_skipped += 1  # a gesture is stale by the time the phone is back
            return False
        if link.event(topic, payload):
            self.events += 1
            return True
        self.events_dropped += 1
        return False

    def _emit_gesture(self, kind, src):
        self._event("gesture", [kind, src])

    def _battery_event(self, kind, value):
        self._event("battery", [kind, value])

    # ---- local actions -----------------------------------------------------------------------
    def _voice(self):
        return self.app.voice

    def _talk(self):
        v = self._voice()
        if v is None:
            self.no_voice += 1
            self.log.info("no voice service on this board: tap ignored")
            return
        v.talk()

    def _chime(self, name):
        v = self._voice()
        if v is not None:
            v.chime(name)

    def _say(self, text):
        v = self._voice()
        if v is not None:
            v.say(text)

    def _route(self, kind, src):
        """A recognised gesture's local action."""
        self.routed += 1
        ota = self.app.ota
        if kind == G.DOUBLE_TAP and ota is not None and ota.asking():
            ota.allow_downgrade()  # the wearer's yes to an older firmware
            return
        cam = self.app.camera
        if cam is not None and cam.is_gesture(kind, src):
            cam.take("gesture")  # the board's photo gesture (firmware/camera/service.py)
            return
        n = self.app.notify
        if kind == G.TAP:
            if src != G.SRC_IMU and n is not None and n.waiting():
                n.on_gesture(kind, src)
            else:
                self._talk()
        elif n is not None:
            n.on_gesture(kind, src)  # double tap, long press, nod, shake, swipes

    def _pair(self):
        gatt = self.app.gatt
        if gatt is None:
            self.log.info("both pads held: no radio, no pairing window")
            return
        self.log.warn("both pads held: opening the pairing window")
        gatt.open_pairing()

    def _forget(self):
        self.forgets += 1
        self._emit_gesture("forget_bonds", "pads")
        self.log.warn("both pads held: forgetting every bonded phone")
        n = self.app.notify
        if n is not None:
            n.feedback("confirm")
        gatt = self.app.gatt
        if gatt is not None:
            # the event leaves first: forgetting disconnects the phone
            self.sched.spawn(self._forget_soon, gatt, name="forget", prio=_s.PRIO_LINK)

    async def _forget_soon(self, gatt):
        await _s.sleep_ms(200)
        gatt.forget_bonds()

    # ---- wear and the power policy ----------------------------------------------------------
    def _on_wear(self, worn, reason):
        n = self.app.notify
        if n is not None:
            n.on_wear(worn, reason)
        self._update_gyro()

    def _mic(self, allowed):
        v = self._voice()  # voice.mute(True) also stops the microphone (below)
        if v is not None and hasattr(v, "allow_mic"):
            v.allow_mic(allowed)

    def _mute(self, muted):
        v = self._voice()
        if v is not None:
            v.mute(muted)

    def _rate(self, mode):
        """"low" while off the head (or shedding): slower proximity, touch and gauge."""
        self.rate = mode
        svc = self.app.sensors
        if svc is not None:
            c = self.app.config
            for part in ("prox", "touch", "gauge"):
                ms = LOW_RATES[part] if mode == "low" else c[part + "_ms"]
                svc.set_period_ms(part, ms)
        self._update_gyro()

    def _link_mode(self, mode):
        """MicroPython 1.27 cannot ask for connection parameters (docs/power.md): the
        glasses send less (keepalive every 2 s instead of 1 s) and tell the phone, which
        may relax the interval and latency itself."""
        if mode == self.link_mode:
            return
        self.link_mode = mode
        link = self.app.link
        if link is None:
            return
        link.set_keepalive_ms(RELAXED_KEEPALIVE_MS if mode == "relaxed" else 1000)
        self._event("link", mode)

    def shed_load(self, on):
        """Battery critical: sensors slow, gyro off, LED patterns off (app.shedding)."""
        self.shedding = on
        self.app.shedding = on
        self.log.warn("battery critical: shedding load" if on else "load shedding over")
        if on:
            self._rate("low")
        elif not self.policy.saving:
            self._rate("normal")
        n = self.app.notify
        if n is not None:
            n.shed(on)

    # ---- nod / shake on demand ----------------------------------------------------------------
    def want_head(self, reason, ms):
        """Something needs nod / shake for the next ms (0: no longer)."""
        if ms > 0:
            if reason not in self._head and len(self._head) >= _MAX_HEAD_REASONS:
                raise ValueError("too many head-gesture reasons")
            self._head[reason] = self.clock.ticks_add(self.clock.ticks_ms(), ms)
        else:
            self._head.pop(reason, None)
        self._update_gyro()
        self.flag.set()

    def _update_gyro(self):
        on = bool(self._head) and not self.shedding and self.wear.state != OFF
        hz = HEAD_HZ if on else 0
        if hz == self.gyro_hz:
            return
        self.gyro_hz = hz
        svc = self.app.sensors
        if svc is not None and self.app.board.imu is not None:
            svc.set_gyro_hz(hz)

    def _expire_head(self, now):
        d = self.clock.ticks_diff
        gone = None
        for reason, until in self._head.items():
            if d(now, until) >= 0:
                gone = reason
        if gone is not None:
            del self._head[gone]
            self._update_gyro()

    # ---- the task ---------------------------------------------------------------------------
    def _busy(self):
        return self.gest.pending() or self._imu_single or (self._both and not self._forget_fired)

    async def run(self):
        c = self.clock
        while True:
            now = c.ticks_ms()
            self.gest.tick(now)
            self.wear.tick(now)
            if self._imu_single and c.ticks_diff(now, self._imu_t) > IMU_DOUBLE_MS:
                self._imu_single = False
                self.gest.on_tap("single")
            if self._both and not self._pair_fired and \
                    c.ticks_diff(now, self._both_t) >= self.pair_hold_ms:
                self._pair_fired = True
                self._pair()
            if self._both and not self._forget_fired and \
                    c.ticks_diff(now, self._both_t) >= FORGET_HOLD_MS:
                self._forget_fired = True
                self._forget()
            if self._head:
                self._expire_head(now)
            if self._busy():
                await _s.sleep_ms(TICK_MS)
            else:
                await self.flag.wait(IDLE_MS)

    def status(self):
        w = self.wear
        b = self.bat
        return {"wear": STATE_NAMES[w.state], "degraded": w.degraded, "battery": b.level,
                "charging": b.charging, "shedding": self.shedding, "gyro_hz": self.gyro_hz,
                "rate": self.rate, "link": self.link_mode, "gestures": self.gest.count,
                "events": self.events, "ota": b.ota_refusal() or "allowed"}


def start(app):
    """Gestures, wear and battery on the app's sensor topics (every board: a missing part
    gets its safe fallback). Returns the Senses (app.senses); status "senses"."""
    s = Senses(app)
    s.listen()
    s.absent_at_boot()
    app.senses = s
    app.ota_allowed = s.bat.ota_allowed
    app.ota_refusal = s.bat.ota_refusal
    app.status("senses", s.status)
    app.sched.spawn(s.run, name="senses", prio=_s.PRIO_SENSOR, restart=_s.RESTART_ON_ERROR)
    return s
