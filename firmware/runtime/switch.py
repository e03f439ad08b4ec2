# The scheduler's switch path: everything that runs between one task's slice and the next.
#
# - Ready queues: one intrusive FIFO list per priority (task.nxt links), a bitmask of the
#   non-empty ones. Priority 0 runs first.
# - Suspension: every blocking call records where the current task waits and returns the
#   one shared _Suspend object, which yields exactly once. Nothing on the switch path
#   allocates (see tests/mpy/test_heaplock.py, run under micropython.heap_lock()).
# - Waking: a waitable (Event, Flag, Queue, Task) keeps its waiting tasks in a list of its
#   own (_wh/_wt); an interrupt only sets a Flag, which the loop then polls.
# - The slice loop: fire due timers, check the watchdog, resume the most urgent ready task
#   and account for its time.
#
# The functions taking `self` are Scheduler methods, written here and bound into the class
# by sched.py (a call looks them up in the class's own dict, as any method). The constants
# the switch path compares against live here too: MicroPython inlines a const() only in the
# module that declares it.
from micropython import const

# Priorities: 0 is the most urgent. Named for what runs there on the glasses.
PRIO_AUDIO = const(0)
PRIO_LINK = const(1)
PRIO_SENSOR = const(2)
PRIO_BACKGROUND = const(3)
N_PRIO = const(4)

# Task states.
S_READY = const(0)
S_RUNNING = const(1)
S_SLEEPING = const(2)
S_WAITING = const(3)
S_BACKOFF = const(4)  # waiting to be restarted
S_DONE = const(5)
S_FAILED = const(6)
S_CANCELLED = const(7)
STATE_NAMES = ("ready", "running", "sleeping", "waiting", "backoff", "done", "failed",
               "cancelled")

# Values a suspended task is resumed with (index into _STOPS).
V_NONE = const(0)
V_TRUE = const(1)
V_FALSE = const(2)

# What _slices() stopped for.
IDLE = const(0)
STOP = const(1)
MORE = const(2)

_LOWEST_BIT = b"\x00\x00\x01\x00\x02\x00\x01\x00\x03\x00\x01\x00\x02\x00\x01\x00"


class CancelledError(BaseException):  # as asyncio has it: `except Exception` cannot swallow it
    pass


class Timeout(Exception):
    pass


class SchedulerError(Exception):
    pass


_STOPS = (StopIteration(None), StopIteration(True), StopIteration(False))
_sched = None  # the running scheduler (set by _slices); not a hardware object


class _Suspend:
    """The one awaitable every blocking call returns. When armed, its first __next__
    yields to the scheduler; the next one finishes the await with the value the
    scheduler left in the task (None / True / False)."""

    def __init__(self):
        self.armed = False

    def __iter__(self):
        return self

    def __await__(self):
        return self

    def __next__(self):
        if self.armed:
            self.armed = False
            return None
        e = _STOPS[_sched.cur.val]
        e.__traceback__ = None
        raise e


_SUSPEND = _Suspend()


# ---- ready queues ---------------------------------------------------------------------
def _push(self, t):
    p = t.prio
    t.state = S_READY
    t.nxt = None
    tail = self._tail[p]
    if tail is None:
        self._head[p] = t
        self._mask |= 1 << p
    else:
        tail.nxt = t
    self._tail[p] = t


def _make_ready(self, t, val):
    t.val = val
    if t.hi >= 0:
        self._heap_remove(t)
    t.wait_on = None
    self._push(t)


# ---- blocking and waking (used by the primitives in runtime/sync.py) -------------------
def _block_on(self, w, ready_now, timeout_ms):
    """Suspend the current task on waitable w (which keeps a _wh/_wt task list), or
    finish at once with True if ready_now, or False if timeout_ms == 0."""
    t = self.cur
    if ready_now:
        t.val = V_TRUE
        _SUSPEND.armed = False
        return _SUSPEND
    if timeout_ms == 0:
        t.val = V_FALSE
        _SUSPEND.armed = False
        return _SUSPEND
    t.state = S_WAITING
    t.wait_on = w
    w._owner = self  # so a wake from outside the loop finds this scheduler
    t.nxt = None
    tail = w._wt
    if tail is None:
        w._wh = t
    else:
        tail.nxt = t
    w._wt = t
    if timeout_ms > 0:
        self._sleep_until(t, self._tadd(self._tms(), timeout_ms))
    _SUSPEND.armed = True
    return _SUSPEND


def _wake_first(self, w, val=V_TRUE):
    """Wake the first task waiting on w; return it (or None)."""
    t = w._wh
    if t is None:
        return None
    w._wh = t.nxt
    if t.nxt is None:
        w._wt = None
    t.nxt = None
    self._make_ready(t, val)
    return t


def _wake_all(self, w, val=V_TRUE):
    while w._wh is not None:
        self._wake_first(w, val)


def _unblock(self, t):
    """Take t off whatever it waits on (wait list and timer heap)."""
    w = t.wait_on
    if w is not None:
        prev = None
        x = w._wh
        while x is not None and x is not t:
            prev = x
            x = x.nxt
        if x is t:
            if prev is None:
                w._wh = t.nxt
            else:
                prev.nxt = t.nxt
            if w._wt is t:
                w._wt = prev
        t.wait_on = None
        t.nxt = None
    if t.hi >= 0:
        self._heap_remove(t)


def _register_flag(self, f):
    if len(self._flags) >= self.max_tasks:
        raise SchedulerError("too many flags")
    self._flags.append(f)


def _poll_flags(self):
    self.irq = False
    for f in self._flags:
        if f._set and f._wh is not None:
            f._set = False
            self._wake_first(f, V_TRUE)


# ---- the loop ---------------------------------------------------------------------------
def _fire_timers(self, now):
    h = self._heap
    diff = self._tdiff
    while self._hn and diff(h[0].wake, now) <= 0:
        t = h[0]
        self._heap_remove(t)
        st = t.state
        if st == S_SLEEPING:
            t.val = V_NONE
            self._push(t)
        elif st == S_WAITING:  # a wait with a timeout ran out
            self._unblock(t)
            t.val = V_FALSE
            self._push(t)
        elif st == S_BACKOFF:
            self._restart(t)


def _slices(self, deadline, until, max_slices):
    """Run task slices until nothing is ready (IDLE), or stop / deadline / `until`
    ended (STOP), or max_slices ran (MORE). The hot path: no allocation."""
    global _sched
    prev = _sched
    _sched = self
    tms = self._tms
    tus = self._tus
    diff = self._tdiff
    budget = self.slice_budget_us
    heads = self._head
    tails = self._tail
    n = max_slices
    try:
        while not self._stop:
            if self.irq:
                self._poll_flags()
            now = tms()
            if self._hn:
                self._fire_timers(now)
            if self._wdt_feed is not None:
                self._check_watchdog(now)
            if deadline is not None and diff(now, deadline) >= 0:
                return STOP
            if until is not None and until.state >= S_DONE:
                return STOP
            m = self._mask  # pop the head of the most urgent ready queue (inlined)
            if not m:
                return IDLE
            if n == 0:
                return MORE
            n -= 1
            p = _LOWEST_BIT[m]
            t = heads[p]
            nxt = t.nxt
            heads[p] = nxt
            if nxt is None:
                tails[p] = None
                self._mask = m & ~(1 << p)
            t.nxt = None
            self.cur = t
            t.state = S_RUNNING
            t0 = tus()
            try:
                exc = t.pending
                if exc is None:
                    t.coro.send(None)
                else:
                    t.pending = None
                    t.coro.throw(exc)
            except StopIteration as e:
                self._retire(t, False, e.value)
            except CancelledError:
                self._finish(t, S_CANCELLED, None)
            except Exception as e:
                self._failed(t, e)
            if t.state == S_RUNNING:  # yielded without blocking: back of its queue
                self._push(t)
            dt = diff(tus(), t0)
            self.cur = None
            t.runs += 1
            us = t.run_us + dt
            if us >= 1000000:
                t.run_s += 1
                us -= 1000000
            t.run_us = us
            if dt > t.worst_us:
                t.worst_us = dt
            if dt > budget:
                self.slices_over_budget += 1
                self.log.warn("%s ran %d us in one slice, over its budget", t.name, dt)
        return STOP
    finally:
        _sched = prev
        self.cur = None


# ---- awaitables for the running task ---------------------------------------------------
def current():
    return _sched.cur


def sleep_ms(ms):
    """await sleep_ms(ms): suspend the current task for at least ms milliseconds."""
    s = _sched
    t = s.cur
    if ms <= 0:
        s._push(t)
    else:
        t.state = S_SLEEPING
        s._sleep_until(t, s._tadd(s._tms(), ms))
    t.val = V_NONE
    _SUSPEND.armed = True
    return _SUSPEND


def checkin():
    """A critical task calls this to say it is alive (see Scheduler.watchdog)."""
    s = _sched
    s.cur.checkin_ms = s._tms()
