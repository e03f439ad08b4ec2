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


def run_chunks(sched, ms, chunk_ms=400):
    """Run the scheduler for ms of virtual time, in chunks; a generator: each chunk ends
    with a yield, so a test that is a generator lets MicroPython's GC run between them."""
    from firmware.runtime import sched as S

    async def stopper(t):
        await S.sleep_ms(t)
        sched.stop()
    while ms > 0:
        t = chunk_ms if ms > chunk_ms else ms
        sched.spawn(stopper, t, prio=S.PRIO_BACKGROUND)
        sched.run()
        ms -= t
        yield


_roots = [0]


def temp_root(tag):
    """A fresh, empty folder for a test's flash (under /tmp where it exists)."""
    import os
    _roots[0] += 1
    base = "/tmp" if "tmp" in os.listdir("/") else "."
    pid = os.getpid() if hasattr(os, "getpid") else 0
    root = "%s/%s_%d_%d" % (base, tag, pid, _roots[0])
    _clear(root)
    try:
        os.mkdir(root)
    except OSError:
        pass
    return root


def _clear(path):
    import os
    try:
        names = os.listdir(path)
    except OSError:
        return
    for n in names:
        p = path + "/" + n
        if os.stat(p)[0] & 0x4000:
            _clear(p)
            os.rmdir(p)
        else:
            os.remove(p)
