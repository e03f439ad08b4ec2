# Random identifiers (session ids, action-id epochs). Runs under CPython and MicroPython.
from firmware.runtime import clock as C
from firmware.runtime import rand


class _NoRng:
    """A port without os.urandom (the WebAssembly port is one)."""


def _distinct(n):
    vals = [rand.bits30() for _ in range(n)]
    assert all(0 <= v < (1 << 30) for v in vals)
    return len(set(vals))


def test_back_to_back_ids_differ_with_a_hardware_rng_or_without():
    assert _distinct(50) == 50
    real_os = rand.os
    was = C.active()
    rand.os = _NoRng()
    try:  # a virtual clock that does not move: the same microsecond every time
        C.use(C.VirtualClock(3))
        assert _distinct(50) == 50
    finally:
        rand.os = real_os
        C.use(was)
