# MicroPython's `time`, in the virtual time of the world (world.py): the ticks functions
# the firmware's clock seam uses (firmware/runtime/clock.py), and sleeps that hand the
# time to the world. A file named time.py on sys.path takes the place of the built-in
# (`time` is one of MicroPython's extensible modules).
from world import W

_MASK = (1 << 30) - 1
_HALF = 1 << 29
EPOCH_S = 1767268800  # the phone's clock at power-on (2026-01-01 12:00 UTC)


def ticks_ms():
    return (W.us // 1000) & _MASK


def ticks_us():
    return W.us & _MASK


def ticks_diff(a, b):
    return ((a - b + _HALF) & _MASK) - _HALF


def ticks_add(t, delta):
    return (t + delta) & _MASK


def sleep_ms(ms):
    W.idle(ms)


def sleep_us(us):
    W.idle(us // 1000)


def sleep(s):
    W.idle(int(s * 1000))


def time():
    return EPOCH_S + W.us // 1000000


def time_ns():
    return (EPOCH_S * 1000000 + W.us) * 1000
