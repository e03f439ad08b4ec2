# The clock seam's tick arithmetic. Runs under CPython and MicroPython.
from firmware.runtime import clock as C

_M = (1 << 30) - 1
_H = 1 << 29


def _lcg(x):
    return (x * 1103515245 + 12345) & _M


def test_ticks_arithmetic_matches_the_modular_definition_across_the_wrap():
    x = 7
    edge = [0, 1, _H - 1, _H, _H + 1, _M - 1, _M]
    pairs = [(a, b) for a in edge for b in edge]
    for i in range(len(pairs) + 400):
        if i < len(pairs):
            a, b = pairs[i]
        else:
            if i % 50 == 0:
                yield  # the LCG's big-int products are garbage: let MicroPython's GC run
            x = _lcg(x)
            a, b = x, _lcg(x)
        d = C.ticks_diff(a, b)
        assert -_H <= d < _H, (a, b, d)
        assert C.ticks_add(b, d) == a, (a, b, d)  # diff and add are inverses
    for t in edge:
        for d in (0, 1, -1, 5000, -5000, _H - 1, -_H + 1):
            r = C.ticks_add(t, d)
            assert 0 <= r <= _M and C.ticks_diff(r, t) == d, (t, d, r)


def test_virtual_clock_keeps_ms_and_us_in_step():
    c = C.VirtualClock(0, start_ms=_M - 3)
    us0 = c.ticks_us()
    c.advance_us(2500)
    assert C.ticks_diff(c.ticks_ms(), _M - 3) == 2
    assert C.ticks_diff(c.ticks_us(), us0) == 2500
    c.advance_ms(10)
    assert C.ticks_diff(c.ticks_ms(), _M - 3) == 12 and c.elapsed_ms() == 12
