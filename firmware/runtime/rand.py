# Identifiers that must differ from one boot, store or session to the next: 30 random bits.
# os.urandom (the hardware RNG) where the port has it; elsewhere (the WebAssembly port has
# none) random's bits, the clock and a count mixed, so two made in the same microsecond,
# or at the same moment of two identical boots, still differ.
import os

from firmware.runtime import clock as _clock

_made = [0]


def bits30():
    """A random int in 0 .. 2**30 - 1 (a small int on every port)."""
    rnd = getattr(os, "urandom", None)
    if rnd is not None:
        try:
            b = rnd(4)
            return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) & 0x3FFFFFFF
        except (NotImplementedError, OSError):
            pass
    _made[0] += 1
    try:
        import random
        r = random.getrandbits(30)
    except (ImportError, AttributeError):
        r = 0
    c = _clock.active()
    return (r ^ c.ticks_us() ^ (c.ticks_ms() << 7) ^ (_made[0] * 0x2545F49) ^ id(c)) & 0x3FFFFFFF
