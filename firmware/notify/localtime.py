# The phone's local time on the glasses, for quiet hours.
#
# The glasses have no wall clock (no RTC that anyone sets, no network). The phone sends
# TIME {0: 9, 1: unix seconds, 2: UTC offset minutes} (firmware/protocol/kinds.py) when asked
# (the notification service sends TIME_REQ at every link open while this is unsynced or
# older than resync_ms) and whenever its own clock or time zone changes. Until the first
# TIME, local_minute() is None and no quiet hours apply (rules.in_quiet).
#
# Unix seconds are above 2**30 (a MicroPython small int), so a TIME is turned once into
# the local millisecond of the day at a tick; from then on only small ints: the day
# position at an anchor tick, moved forward (re-anchored) at least every hour so the tick
# difference never comes near the clock's wrap (2**29 ms).
from micropython import const

_DAY_MS = const(86400000)
_REANCHOR_MS = const(3600000)
_MAX_OFFSET_MIN = const(1080)  # UTC-18:00 .. UTC+18:00 (ISO 8601 / java.time limits)


class TimeError(ValueError):
    pass


class LocalTime:
    def __init__(self, clock, resync_ms=6 * 3600000):
        self.clock = clock
        self.resync_ms = resync_ms
        self.synced = False
        self._old = False
        self.offset_min = 0
        self._day_ms = 0  # local ms after midnight at tick _t
        self._t = 0
        self._synced_t = 0
        self.syncs = 0
        self.refused = 0

    def set(self, unix_s, offset_min=0):
        """The phone's clock now: seconds since 1970 (UTC) and its UTC offset."""
        if not isinstance(unix_s, int) or isinstance(unix_s, bool) or unix_s < 0:
            raise TimeError("time must be whole seconds since 1970, not %r" % (unix_s,))
        if not isinstance(offset_min, int) or isinstance(offset_min, bool) or \
                not -_MAX_OFFSET_MIN <= offset_min <= _MAX_OFFSET_MIN:
            raise TimeError("UTC offset must be whole minutes within +-18 h, not %r"
                            % (offset_min,))
        local_s = unix_s + offset_min * 60
        self._day_ms = (local_s % 86400) * 1000
        self._t = self._synced_t = self.clock.ticks_ms()
        self.offset_min = offset_min
        self.synced = True
        self._old = False
        self.syncs += 1

    def on_message(self, msg):
        """A TIME message from the link. Returns None, or the reason it was refused."""
        try:
            off = msg.get(2, 0)
            self.set(msg.get(1), 0 if off is None else off)
        except TimeError as e:
            self.refused += 1
            return str(e)
        return None

    def day_ms(self):
        """Local milliseconds after midnight now (re-anchoring as it goes), or -1."""
        if not self.synced:
            return -1
        c = self.clock
        now = c.ticks_ms()
        d = c.ticks_diff(now, self._t)
        if d >= _REANCHOR_MS:
            self._day_ms = (self._day_ms + d) % _DAY_MS
            self._t = now
            d = 0
        return (self._day_ms + d) % _DAY_MS

    def local_minute(self):
        """Minute of the local day (0..1439), or None before the first TIME."""
        ms = self.day_ms()
        return None if ms < 0 else ms // 60000

    def hhmm(self):
        m = self.local_minute()
        return None if m is None else "%02d:%02d" % (m // 60, m % 60)

    def stale(self):
        """Never synced, or synced longer than resync_ms ago (ask the phone again)."""
        if not self.synced or self._old:
            return True
        c = self.clock
        self.day_ms()  # keep the anchor fresh
        age = c.ticks_diff(c.ticks_ms(), self._synced_t)
        if age >= self.resync_ms or age < 0:
            self._old = True  # until the next TIME (the tick difference would wrap)
        return self._old
