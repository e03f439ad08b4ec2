"""A CPython stand-in for MicroPython's own `micropython` module.

The link protocol (firmware/protocol/) and the runtime it builds on are shared by the
glasses and this host; they say `from micropython import const`. install() makes that
import resolve to this module (and installs nothing else: no `machine`, no `bluetooth`;
the simulator's mirrors of those live in sim/mirror/ and only `glasses sim` loads them).

const() returns its argument; native/viper decorators pass the function through (the
firmware keeps a portable twin of every viper function anyway); heap_lock() is counted, not
enforced (CPython cannot refuse allocations; the real check runs under MicroPython in
tests/mpy/test_heaplock.py); schedule() queues a callback for the simulator to run.
"""
import sys
import traceback
from collections import deque

_scheduled: deque = deque(maxlen=8)  # MicroPython's schedule queue holds 8 callbacks
_lock_depth = 0


def const(value):
    return value


def native(fn):
    return fn


def viper(fn):
    return fn


def heap_lock():
    global _lock_depth
    _lock_depth += 1


def heap_unlock():
    global _lock_depth
    if _lock_depth:
        _lock_depth -= 1
    return _lock_depth


def heap_locked():
    return _lock_depth


def schedule(fn, arg):
    """Queue fn(arg) to run soon, as MicroPython does; RuntimeError when the queue is full."""
    if len(_scheduled) >= (_scheduled.maxlen or 0):
        raise RuntimeError("schedule queue full")
    _scheduled.append((fn, arg))


def run_scheduled():
    """Run queued callbacks (the simulator calls this between scheduler slices)."""
    n = 0
    while _scheduled:
        fn, arg = _scheduled.popleft()
        fn(arg)
        n += 1
    return n


def print_exception(exc, file=None):
    """sys.print_exception as MicroPython has it."""
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=file)


def mem_info(*args):
    print("mem: simulated (CPython)")


def opt_level(level=None):
    return 0


def alloc_emergency_exception_buf(size):
    return None


def install():
    """Make `import micropython` resolve to this module (unless one is already there, e.g.
    under MicroPython itself). Idempotent."""
    sys.modules.setdefault("micropython", sys.modules[__name__])
