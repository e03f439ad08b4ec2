# The wall clock: what time it is, as the phone said, kept through deep sleep.
#
# The glasses learn the time from the phone (TIME, firmware/protocol/kinds.py) and count
# on from there with the board's RTC (clock.rtc_s(): seconds that keep running through
# deep sleep and a soft reset, and start again from 0 at power-on). set() records the
# offset between the two in the flash store, so after a deep-sleep wake the glasses know
# the time before any phone is back; after a power-on (a brown-out, a battery swap) the
# RTC started over and the time is unknown until the next TIME.
#
# Times are seconds since 2024-01-01 00:00 UTC (EPOCH_2024 in unix seconds): small ints on
# every port until 2058. now_s() is None while the time is unknown.
from micropython import const

EPOCH_2024 = const(1704067200)
_RECORD = "wall"
_KEEPS_RTC = (4, 5)  # machine.DEEPSLEEP_RESET, machine.SOFT_RESET: the RTC ran on


class Wall:
    def __init__(self, clock, store=None, reset_cause=None, log=None):
        self.clock = clock
        self.store = store
        self.log = log
        self._offset = None  # wall seconds minus rtc seconds; None: unknown
        self.restored = False  # known since boot, from the record (the RTC ran on)
        self.listeners = []  # fn() once the time becomes known
        if store is not None and reset_cause in _KEEPS_RTC:
            rec = store.read_cbor(_RECORD)
            if isinstance(rec, dict) and isinstance(rec.get(1), int):
                self._offset = rec[1]
                self.restored = True

    def known(self):
        return self._offset is not None

    def now_s(self):
        """Seconds since 2024-01-01 UTC, or None while unknown."""
        if self._offset is None:
            return None
        return self._offset + self.clock.rtc_s()

    def set(self, unix_s):
        """The phone's clock: unix seconds (UTC). Kept in the store for the next wake."""
        if not isinstance(unix_s, int) or isinstance(unix_s, bool) or unix_s < EPOCH_2024:
            raise ValueError("time must be whole unix seconds after 2024, not %r" % (unix_s,))
        was = self._offset is not None
        off = (unix_s - EPOCH_2024) - self.clock.rtc_s()
        changed = off != self._offset
        self._offset = off
        if changed and self.store is not None:
            try:
                self.store.write_cbor(_RECORD, {1: off})
            except OSError as e:
                if self.log is not None:
                    self.log.warn("wall clock not saved: %s", str(e))
        if not was:
            for fn in self.listeners:
                fn()

    def on_known(self, fn):
        """fn() when the time becomes known (at once if it is)."""
        self.listeners.append(fn)
        if self._offset is not None:
            fn()


def hhmm(wall_s, offset_min=0):
    """'14:02' for a wall time (seconds since 2024 UTC) at a UTC offset."""
    m = ((wall_s // 60) + offset_min) % 1440
    return "%02d:%02d" % (m // 60, m % 60)
