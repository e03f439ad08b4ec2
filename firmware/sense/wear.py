# Wear detection from the proximity sensor: hysteresis on the counts, debounce in time.
#
#   on_prox(count, t_ms)    a proximity reading (higher = closer: skin near the sensor)
#   on_fault(part, reason)  a part died; the proximity sensor's death means "don't know"
#   tick(t_ms)              the sense task calls it: debounce without new samples, and
#                           the stale check (no sample for stale_ms = the sensor is dead)
#
# A reading >= on_count is "near", <= off_count is "far"; in between the last reading
# stands (two thresholds: no flapping around one). Near for put_on_ms: put on. Far for
# take_off_ms: taken off.
#
# On taken off the PowerPolicy switches the glasses to saving: microphone off and
# disallowed, audio muted, sensors at low rate, link parameters relaxed. On put on,
# everything back to normal and on_change(True, ...) lets the notification centre say
# what is waiting.
#
# Safe state when the sensor dies (a fault report, or no reading for stale_ms): WORN,
# flagged `degraded`. The glasses stay usable (a dead wear sensor must not mute them for
# good); the microphone still only opens on a user action, and the host is told through
# emit("wear", "sensor_fault"). A fresh reading clears the fault and detection resumes.
from micropython import const

from firmware.runtime.clock import ticks_diff
from firmware.sense.emit import safe_emit

UNKNOWN = const(0)
WORN = const(1)
OFF = const(2)
STATE_NAMES = ("unknown", "worn", "off")

WEAR = {
    "on_count": 1800,  # at or above: near
    "off_count": 1200,  # at or below: far
    "put_on_ms": 1500,  # near this long: put on
    "take_off_ms": 5000,  # far this long: taken off (glasses pushed up briefly stay "worn")
    "stale_ms": 0,  # no reading for this long: the sensor is dead (0: no check)
}

# Reasons given to on_change / emit.
PUT_ON = "put_on"
TAKEN_OFF = "taken_off"
SENSOR_FAULT = "sensor_fault"


class PowerPolicy:
    """The knobs the app hands to wear detection. Each is a callable or None (the board
    has no such knob):
        mic(allowed)        False: stop the microphone and refuse to start it
        audio_mute(muted)   True: mute the speaker
        sensor_rate(mode)   "low" | "normal"
        link(mode)          "relaxed" | "normal" (connection interval, slave latency)
    `saving` tells anyone who asks which mode is in force."""

    def __init__(self, mic=None, audio_mute=None, sensor_rate=None, link=None):
        self.mic = mic
        self.audio_mute = audio_mute
        self.sensor_rate = sensor_rate
        self.link = link
        self.saving = False

    def apply(self, saving):
        self.saving = saving
        if self.mic is not None:
            self.mic(not saving)
        if self.audio_mute is not None:
            self.audio_mute(saving)
        if self.sensor_rate is not None:
            self.sensor_rate("low" if saving else "normal")
        if self.link is not None:
            self.link("relaxed" if saving else "normal")


class Wear:
    def __init__(self, policy=None, on_change=None, emit=None, config=None, log=None,
                 parts=("prox",)):
        c = WEAR if config is None else config
        if c["off_count"] >= c["on_count"]:
            raise ValueError("wear: off_count (%d) must be below on_count (%d)"
                             % (c["off_count"], c["on_count"]))
        self.on_count = c["on_count"]
        self.off_count = c["off_count"]
        self.put_on_ms = c["put_on_ms"]
        self.take_off_ms = c["take_off_ms"]
        self.stale_ms = c["stale_ms"]
        self.policy = policy
        self.on_change = on_change  # on_change(worn, reason)
        self.emit = emit  # emit("wear", reason): the events channel
        self.log = log
        self.parts = parts
        self.state = UNKNOWN
        self.degraded = False  # the state is the safe fallback, not a measurement
        self._near = False  # the last reading's side of the hysteresis band
        self._have = False  # a reading has been seen (since start or since a fault)
        self._since = 0  # when the reading settled on its current side
        self._last_t = 0  # time of the last reading
        self._seen = False  # any reading at all (the stale check starts with the first)
        self.samples = 0  # readings seen (wraps at 2**30)
        self.changes = 0

    def worn(self):
        return self.state == WORN

    def on_prox(self, count, t_ms):
        self.samples = (self.samples + 1) & 0x3FFFFFFF
        self._seen = True
        if self.degraded:  # the sensor is back: measure again from here
            self.degraded = False
            self._have = False
            if self.log is not None:
                self.log.info("wear sensor readings again")
        if count >= self.on_count:
            near = True
        elif count <= self.off_count:
            near = False
        elif self._have:
            near = self._near
        else:
            self._last_t = t_ms  # in the band with nothing before: no opinion yet
            return
        if not self._have or near != self._near:
            self._near = near
            self._since = t_ms
            self._have = True
        self._last_t = t_ms
        self._decide(t_ms)

    def tick(self, t_ms):
        if self.stale_ms and self._seen and not self.degraded:
            if ticks_diff(t_ms, self._last_t) > self.stale_ms:
                self._fault("no reading for %d ms" % ticks_diff(t_ms, self._last_t))
                return
        if self._have and not self.degraded:
            self._decide(t_ms)

    def _decide(self, t):
        held = ticks_diff(t, self._since)
        if self._near:
            if self.state != WORN and held >= self.put_on_ms:
                self._set(WORN, PUT_ON)
        elif self.state != OFF and held >= self.take_off_ms:
            self._set(OFF, TAKEN_OFF)

    def _set(self, state, reason):
        self.state = state
        self.changes += 1
        if self.policy is not None:
            self.policy.apply(state == OFF)
        self._emit("wear", reason)
        if self.on_change is not None:
            self.on_change(state == WORN, reason)

    def _emit(self, kind, payload):
        safe_emit(self.emit, self.log, kind, payload)

    def on_fault(self, part, reason):
        if part not in self.parts:
            return False
        self._fault(reason)
        return True

    def _fault(self, reason):
        if self.log is not None:
            self.log.warn("wear sensor failed (%s): assuming worn", reason)
        self.degraded = True
        self._have = False
        if self.state == WORN:
            self._emit("wear", SENSOR_FAULT)
            return
        self._set(WORN, SENSOR_FAULT)
