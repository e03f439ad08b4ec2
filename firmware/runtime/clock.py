# The one clock seam of the firmware: ticks_ms / ticks_us / ticks_diff / ticks_add, and
# rtc_s() (the RTC's seconds, which run on through deep sleep: firmware/runtime/wall.py).
#
# On a board the active clock is RealClock (MicroPython's `time.ticks_*`). Tests and the
# simulator install a VirtualClock: time only moves when someone advances it, so a run is
# as fast as the CPU allows and reproducible from its seed. Ticks wrap like MicroPython's
# (period 2**30 on 32-bit ports); always compare them with ticks_diff.
import time

from micropython import const


PERIOD = const(1 << 30)
_MASK = const((1 << 30) - 1)
_HALF = const(1 << 29)


# Both stay within MicroPython's small ints (31-bit signed on 32-bit ports) at every step,
# so they never allocate, even across the wrap.
def _diff(a, b):
    d = a - b
    if d >= _HALF:
        d -= _MASK
        d -= 1
    elif d < -_HALF:
        d += _MASK
        d += 1
    return d


def _add(t, delta):
    if delta >= 0:
        r = t - _MASK - 1 + delta
        if r < 0:
            r += _MASK
            r += 1
        return r
    r = t + delta
    if r < 0:
        r += _MASK
        r += 1
    return r


class RealClock:
    """The board's own clock (time.ticks_*); under CPython, a monotonic stand-in."""

    virtual = False

    def __init__(self):
        if hasattr(time, "ticks_ms"):
            self.ticks_ms = time.ticks_ms
            self.ticks_us = time.ticks_us
            self.ticks_diff = time.ticks_diff
            self.ticks_add = time.ticks_add
        else:  # CPython without the simulator's time mirror (host tools)
            ns = getattr(time, "monotonic_ns")
            self.ticks_ms = lambda: (ns() // 1000000) & _MASK
            self.ticks_us = lambda: (ns() // 1000) & _MASK
            self.ticks_diff = _diff
            self.ticks_add = _add

    def sleep_ms(self, ms):
        if ms > 0:
            time.sleep_ms(ms) if hasattr(time, "sleep_ms") else time.sleep(ms / 1000)

    def rtc_s(self):
        """The RTC's seconds (time.time()): they run on through deep sleep."""
        return int(time.time())


class VirtualClock:
    """Time that moves only when advanced. The seed picks where the ticks start (close to
    a wraparound for some seeds), so wraparound handling is exercised reproducibly."""

    virtual = True

    def __init__(self, seed=0, start_ms=None):
        self.seed = seed
        if start_ms is None:  # deterministic start in [0, PERIOD): an LCG step of the seed
            start_ms = (seed * 1103515245 + 12345) & _MASK
        self._ms = start_ms
        self._us = (start_ms * 1000) & _MASK
        self._frac_us = 0  # microseconds not yet carried into _ms
        self.elapsed_s = 0  # whole seconds since start (bounded small ints)
        self._elapsed_us = 0  # remainder below one second
        self.ticks_diff = _diff
        self.ticks_add = _add

    def ticks_ms(self):
        return self._ms

    def ticks_us(self):
        return self._us

    def advance_us(self, us):
        if us <= 0:
            return
        self._us = (self._us + us) & _MASK
        f = self._frac_us + us
        self._ms = (self._ms + f // 1000) & _MASK
        self._frac_us = f % 1000
        e = self._elapsed_us + us
        self.elapsed_s += e // 1000000
        self._elapsed_us = e % 1000000

    def advance_ms(self, ms):
        self.advance_us(ms * 1000)

    def elapsed_ms(self):
        return self.elapsed_s * 1000 + self._elapsed_us // 1000

    def sleep_ms(self, ms):
        self.advance_us(ms * 1000)

    def rtc_s(self):
        """Whole seconds since the clock started (a virtual RTC that never stops)."""
        return self.elapsed_s


_active = None


def active():
    """The clock in use; a RealClock unless one was installed with use()."""
    global _active
    if _active is None:
        _active = RealClock()
    return _active


def use(clock):
    global _active
    _active = clock
    return clock


def ticks_ms():
    return active().ticks_ms()


def ticks_us():
    return active().ticks_us()


def ticks_diff(a, b):
    return _diff(a, b)


def ticks_add(t, delta):
    return _add(t, delta)
