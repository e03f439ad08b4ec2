# Gesture recognition from touch pads, the IMU's tap engine and the gyro.
#
# Entry points are the sensor service's sample callables, unchanged:
#   on_touch(pad, touched, t_ms)        one touch pad's state (edges or periodic samples)
#   on_tap(kind)                        the IMU tap engine: "single" | "double"
#   on_gyro(x_dps, y_dps, z_dps, t_ms)  angular rate, head frame
#   on_fault(part, reason)              a part died: its gesture source goes quiet
# plus tick(t_ms), which the sense task calls every ~50 ms: it resolves a single tap once
# the double-tap window has passed and fires a long press while the pad is still held.
#
# Every recognised gesture goes to emit(kind, payload) (the events channel) and then to
# dispatch(kind, payload) (the local action dispatcher). payload says where it came from:
# the pad id for touch gestures, "imu" for the tap engine, "head" for nod / shake.
#
# Per sample nothing is allocated (no floats kept, no containers built): state is small
# ints in preallocated lists. Thresholds and windows are data (TOUCH, HEAD), copied into
# attributes at construction. HEAD and the swing counter behind nod / shake are in head.py.
from micropython import const

from firmware.runtime.clock import ticks_add, ticks_diff, ticks_ms
from firmware.sense.head import HEAD, Swings

TAP = "tap"
DOUBLE_TAP = "double_tap"
LONG_PRESS = "long_press"
SWIPE_FORWARD = "swipe_forward"
SWIPE_BACK = "swipe_back"
NOD = "nod"
SHAKE = "shake"
KINDS = (TAP, DOUBLE_TAP, LONG_PRESS, SWIPE_FORWARD, SWIPE_BACK, NOD, SHAKE)

SRC_IMU = "imu"
SRC_HEAD = "head"

# Touch timing (ms).
TOUCH = {
    "tap_max_ms": 300,  # a touch released before this is a tap
    "long_press_ms": 800,  # held this long: long press (fires while still held)
    "double_gap_ms": 300,  # a second tap starting within this after the first: double tap
    "swipe_ms": 400,  # the other pad touched within this after the first: swipe
    "imu_guard_ms": 400,  # IMU taps this close to touch activity are the same finger: ignored
}

_NONE = const(-1)


class Gestures:
    def __init__(self, emit, dispatch=None, pads=(0,), touch=None, head=None, log=None,
                 parts=("imu", "touch"), now_ms=None):
        """pads: the board's touch pad ids in spatial order, front (towards the hinge)
        first. A finger moving towards the front is a forward swipe. now_ms: the clock
        for IMU taps, which carry no time (default: the firmware's clock seam)."""
        self._now = ticks_ms if now_ms is None else now_ms
        tc = TOUCH if touch is None else touch
        hc = HEAD if head is None else head
        self.emit = emit
        self.dispatch = dispatch
        self.log = log
        self.parts = parts
        self.pads = tuple(pads)
        n = len(self.pads)
        if n < 1:
            raise ValueError("a board needs at least one touch pad for touch gestures")
        self.tap_max = tc["tap_max_ms"]
        self.long_ms = tc["long_press_ms"]
        self.double_gap = tc["double_gap_ms"]
        self.swipe_ms = tc["swipe_ms"]
        self.imu_guard = tc["imu_guard_ms"]
        self._down = bytearray(n)
        self._down_t = [0] * n
        self._up_t = [0] * n
        self._fresh = bytearray(n)  # the pad's last touch-down is recent enough to start a swipe
        self._pending = False  # one tap done, waiting to see if a second follows
        self._pending_pad = None
        self._tap_end = 0
        self._second = False  # the touch in progress is the second tap of a pair
        self._long_fired = False
        self._swiping = False  # a swipe fired: ignore the rest until every pad is up
        self._touch_t = 0  # last touch activity, to tell IMU taps from finger taps
        self._touched_ever = False
        # head
        self.pitch_axis = hc["pitch_axis"]
        self.yaw_axis = hc["yaw_axis"]
        self.min_swings = hc["min_swings"]
        self.dominance = hc["dominance_pct"]
        self.refractory = hc["refractory_ms"]
        self.max_dt = hc["max_dt_ms"]
        self._pitch = Swings(hc)
        self._yaw = Swings(hc)
        self._last_gyro_t = 0
        self._have_gyro = False
        self._quiet_until = 0
        self._refractory_on = False
        # counters
        self.count = 0  # gestures recognised
        self.bad_samples = 0  # samples refused (unknown pad, unknown tap kind)
        self.dispatch_errors = 0
        self.emit_errors = 0
        self.faults = 0
        self.dead = False  # a part this recogniser listens to reported a fault

    # ---- output ---------------------------------------------------------------------
    def _fire(self, kind, payload):
        # A failing consumer (events channel full, an action that raised) must not stop
        # the sensing, nor keep the other consumer from getting the gesture.
        self.count += 1
        try:
            self.emit(kind, payload)
        except Exception as e:
            self.emit_errors += 1
            if self.log is not None:
                self.log.warn("gesture %s not emitted: %s", kind, e)
        d = self.dispatch
        if d is not None:
            try:
                d(kind, payload)
            except Exception as e:
                self.dispatch_errors += 1
                if self.log is not None:
                    self.log.error("gesture %s: its action failed: %s", kind, e)

    def _bad(self, msg, value):
        self.bad_samples += 1
        if self.log is not None:
            self.log.warn(msg, value)

    # ---- touch ----------------------------------------------------------------------
    def _index(self, pad):
        pads = self.pads
        for i in range(len(pads)):
            if pads[i] == pad:
                return i
        return _NONE

    def on_touch(self, pad, touched, t_ms):
        i = self._index(pad)
        if i == _NONE:
            self._bad("touch sample from an unknown pad", pad)
            return
        self._touch_t = t_ms
        self._touched_ever = True
        if touched:
            if self._down[i]:
                self._hold(t_ms)  # a periodic sample of a pad still held
                return
            self._down[i] = 1
            self._down_t[i] = t_ms
            self._fresh[i] = 1
            if self._try_swipe(i, t_ms):
                return
            if self._swiping:
                return
            self._second = self._pending and ticks_diff(t_ms, self._tap_end) <= self.double_gap
            self._long_fired = False
            return
        if not self._down[i]:
            return  # a release we never saw pressed (sampling started mid-touch)
        self._down[i] = 0
        self._up_t[i] = t_ms
        if self._swiping:
            if not self._any_down():
                self._swiping = False
            return
        if self._long_fired:
            return
        held = ticks_diff(t_ms, self._down_t[i])
        if held >= self.long_ms:
            self._long(pad)
            return
        if held > self.tap_max:
            self._pending = False  # a hesitant touch: neither tap nor long press
            self._second = False
            return
        if self._second:
            self._second = False
            self._pending = False
            self._fire(DOUBLE_TAP, pad)
            return
        self._pending = True
        self._pending_pad = pad
        self._tap_end = t_ms

    def _any_down(self):
        for d in self._down:
            if d:
                return True
        return False

    def _try_swipe(self, i, t):
        n = len(self.pads)
        for j in range(n):
            if j == i or not self._fresh[j]:
                continue
            if ticks_diff(t, self._down_t[j]) > self.swipe_ms:
                self._fresh[j] = 0
                continue
            self._fresh[j] = 0
            self._fresh[i] = 0
            self._pending = False
            self._second = False
            self._swiping = True
            self._fire(SWIPE_FORWARD if i < j else SWIPE_BACK, self.pads[i])
            return True
        return False

    def _long(self, pad):
        self._long_fired = True
        self._pending = False
        self._second = False
        self._fire(LONG_PRESS, pad)

    def _hold(self, t):
        if self._swiping or self._long_fired:
            return
        for i in range(len(self.pads)):
            if self._down[i] and ticks_diff(t, self._down_t[i]) >= self.long_ms:
                self._long(self.pads[i])
                return

    def tick(self, t_ms):
        """Resolve what only time can: a single tap (no second one came) and a long press
        while the pad is still held."""
        if self._pending and not self._second and ticks_diff(t_ms, self._tap_end) > self.double_gap:
            self._pending = False
            self._fire(TAP, self._pending_pad)
        self._hold(t_ms)

    def pending(self):
        """True while tick() has something to resolve (the sense task may sleep longer
        otherwise)."""
        return self._pending or self._any_down()

    # ---- IMU tap engine -------------------------------------------------------------
    def on_tap(self, kind):
        if kind == "single":
            g = TAP
        elif kind == "double":
            g = DOUBLE_TAP
        else:
            self._bad("unknown IMU tap kind", kind)
            return
        if self._touched_ever:
            # A finger on a touch pad also shakes the frame: the touch path already has it.
            if self._any_down() or ticks_diff(self._now(), self._touch_t) <= self.imu_guard:
                return
        self._fire(g, SRC_IMU)

    # ---- gyro: nod and shake ----------------------------------------------------------
    def on_gyro(self, x_dps, y_dps, z_dps, t_ms):
        pa = self.pitch_axis
        ya = self.yaw_axis
        p = int(x_dps if pa == 0 else (y_dps if pa == 1 else z_dps))
        y = int(x_dps if ya == 0 else (y_dps if ya == 1 else z_dps))
        if self._have_gyro:
            dt = ticks_diff(t_ms, self._last_gyro_t)
            if dt < 0 or dt > self.max_dt:  # lost samples or time went back: start over
                self._pitch.reset()
                self._yaw.reset()
                dt = 0
        else:
            dt = 0
            self._have_gyro = True
        self._last_gyro_t = t_ms
        pitch = self._pitch
        yaw = self._yaw
        pg = pitch.update(p, t_ms, dt)
        yg = yaw.update(y, t_ms, dt)
        if self._refractory_on:
            if ticks_diff(t_ms, self._quiet_until) < 0:
                return
            self._refractory_on = False
        if pg and pitch.count >= self.min_swings:
            if pitch.weakest * 100 >= self.dominance * yaw.env:
                self._head(NOD, t_ms)
        elif yg and yaw.count >= self.min_swings:
            if yaw.weakest * 100 >= self.dominance * pitch.env:
                self._head(SHAKE, t_ms)

    def _head(self, kind, t):
        self._pitch.reset()
        self._yaw.reset()
        self._refractory_on = True
        self._quiet_until = ticks_add(t, self.refractory)
        self._fire(kind, SRC_HEAD)

    # ---- faults ---------------------------------------------------------------------
    def on_fault(self, part, reason):
        """A part stopped working: forget half-seen gestures from it (nothing fires from
        stale state). Returns True if the part is one this recogniser listens to."""
        if part not in self.parts:
            return False
        self.faults += 1
        self.dead = True
        if part == "touch":
            for i in range(len(self.pads)):
                self._down[i] = 0
                self._fresh[i] = 0
            self._pending = False
            self._second = False
            self._swiping = False
        else:
            self._pitch.reset()
            self._yaw.reset()
            self._have_gyro = False
        if self.log is not None:
            self.log.warn("gesture source %s failed: %s", part, reason)
        return True
