# Helpers for firmware tests that run both under CPython (pytest) and under MicroPython
# (tests/mpy/run.py). Plain asserts only; no pytest imports here.
IMPL = "cpython"  # the MicroPython runner sets "micropython"


def raises(exc_type, fn, *args, **kwargs):
    """Call fn and return the exception of exc_type it raises; fail if it raises nothing."""
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        return e
    raise AssertionError("%s did not raise %s" % (getattr(fn, "__name__", fn), exc_type.__name__))


def virtual_scheduler(seed=1, **kw):
    """A scheduler on a fresh virtual clock (time moves only when the loop idles)."""
    from firmware.runtime.clock import VirtualClock
    from firmware.runtime.sched import Scheduler
    return Scheduler(clock=VirtualClock(seed), **kw)
