# Supervision: how tasks end, and what happens then.
#
# - A task that raises is logged with its traceback; if its restart policy says so it is
#   re-created from its function after a backoff (backoff_ms << restarts, capped at
#   max_backoff_ms), at most max_restarts times in a row. The loop itself never dies.
# - A task that runs out of heap (MemoryError) is logged with its name and the heap left
#   after a collection; what the log needs is allocated only once the task's garbage is
#   gone, and a second MemoryError while logging costs the traceback, never the loop.
# - The watchdog is fed only while every critical task has checked in on time.
#
# Scheduler methods, bound into the class by sched.py (see runtime/switch.py).
import gc
import sys

from firmware.runtime.log import WARN, INFO
from firmware.runtime.switch import S_BACKOFF, S_DONE, S_FAILED, V_TRUE

from micropython import const

# Restart policies.
RESTART_NEVER = const(0)
RESTART_ON_ERROR = const(1)
RESTART_ALWAYS = const(2)


def watchdog(self, feed, period_ms):
    """Call feed() every period_ms, but only while every critical task has checked
    in within its own critical_ms. A board passes its WDT's feed."""
    self._wdt_feed = feed
    self._wdt_period_ms = period_ms
    self._wdt_next = self._tadd(self._tms(), period_ms)


def _finish(self, t, state, result):
    t.state = state
    t.result = result
    t.coro = None
    self._wake_all(t, V_TRUE)


def _failed(self, t, e):
    t.error = e
    log = self.log
    if isinstance(e, MemoryError):
        t.coro = None  # what the task held goes before anything is logged
        gc.collect()
        log.error("task %s out of memory, %d bytes of heap free", t.name, heap_free())
    try:
        log.error("task %s failed: %s", t.name, _describe(e))
        tb = _traceback_text(e)
        if tb:
            log.error("traceback of %s: %s", t.name, tb)
    except MemoryError:
        log.error("task %s failed (no heap left to describe it)", t.name)
    self._retire(t, True, None)


def heap_free():
    """Free GC heap in bytes (-1 where the port cannot tell: CPython)."""
    f = getattr(gc, "mem_free", None)
    return f() if f is not None else -1


def _retire(self, t, failed, result):
    policy = t.restart
    if policy == RESTART_ALWAYS or (failed and policy == RESTART_ON_ERROR):
        now = self._tms()
        if self._tdiff(now, t.started_ms) > t.max_backoff_ms:
            t.restarts = 0  # it ran healthily for a while: start the backoff again
        if t.restarts >= t.max_restarts:
            self.log.error("task %s gave up after %d restarts", t.name, t.restarts)
            self._finish(t, S_FAILED if failed else S_DONE, result)
            return
        delay = t.backoff_ms << t.restarts
        if delay > t.max_backoff_ms:
            delay = t.max_backoff_ms
        t.restarts += 1
        t.coro = None
        t.state = S_BACKOFF
        self.log.log(WARN if failed else INFO, "task %s restarts in %d ms", t.name, delay)
        self._sleep_until(t, self._tadd(now, delay))
        return
    self._finish(t, S_FAILED if failed else S_DONE, result)


def _restart(self, t):
    t.coro = t.fn(*t.args)
    now = self._tms()
    t.started_ms = now
    t.checkin_ms = now
    t.pending = None
    self._push(t)


def _check_watchdog(self, now):
    diff = self._tdiff
    if diff(now, self._wdt_next) < 0:
        return
    self._wdt_next = self._tadd(now, self._wdt_period_ms)
    for t in self.tasks:
        if t.critical_ms and diff(now, t.checkin_ms) > t.critical_ms:
            self.wdt_starved += 1
            self.log.error("watchdog not fed: critical task %s is late", t.name)
            return
    self.wdt_feeds += 1
    self._wdt_feed()


def _describe(e):
    return "%s: %s" % (type(e).__name__, e)


def _traceback_text(e):
    pe = getattr(sys, "print_exception", None)
    if pe is None:
        return None
