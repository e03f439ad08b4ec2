# The cooperative scheduler: async def tasks driven without asyncio.
#
# - Ready queues: one intrusive FIFO list per priority (task.nxt links), a bitmask of the
#   non-empty ones. Priority 0 runs first.
# - Timers: a binary heap of tasks keyed by wake tick (ms), compared with ticks_diff so
#   wraparound is safe; its array is preallocated to max_tasks.
# - Suspension: every blocking call records where the current task waits and returns the
#   one shared _Suspend object, which yields exactly once. Nothing on the switch path
#   allocates (see tests/test_sched_heaplock.py, run under micropython.heap_lock()).
# - Idle: when nothing is ready, the idle hook gets the ms to the next deadline.
# - Supervision: a task that raises is logged with its traceback and restarted with
#   backoff if its policy says so; the loop itself never dies.
import sys

from firmware.runtime import clock as _clock
from firmware.runtime.log import Log, WARN, INFO

from micropython import const

# Priorities: 0 is the most urgent. Named for what runs there on the glasses.
PRIO_AUDIO = const(0)
PRIO_LINK = const(1)
PRIO_SENSOR = const(2)
PRIO_BACKGROUND = const(3)
N_PRIO = const(4)

# Restart policies.
RESTART_NEVER = const(0)
RESTART_ON_ERROR = const(1)
RESTART_ALWAYS = const(2)

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
_V_NONE = const(0)
_V_TRUE = const(1)
_V_FALSE = const(2)

# What _slices() stopped for.
_IDLE = const(0)
_STOP = const(1)
_MORE = const(2)

_LOWEST_BIT = b"\x00\x00\x01\x00\x02\x00\x01\x00\x03\x00\x01\x00\x02\x00\x01\x00"
_MAX_IDLE_MS = const(1000)


class CancelledError(BaseException):  # as asyncio has it: `except Exception` cannot swallow it
    pass


class Timeout(Exception):
    pass


class SchedulerError(Exception):
    pass


_STOPS = (StopIteration(None), StopIteration(True), StopIteration(False))
_CANCEL = CancelledError()
_sched = None  # the running scheduler (set by Scheduler.run); not a hardware object


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


class Task:
    def __init__(self, sched, tid, fn, args, name, prio, restart, backoff_ms,
                 max_backoff_ms, max_restarts, critical_ms):
        self.sched = sched
        self.id = tid
        self.fn = fn
        self.args = args
        self.name = name
        self.prio = prio
        self.restart = restart
        self.backoff_ms = backoff_ms
        self.max_backoff_ms = max_backoff_ms
        self.max_restarts = max_restarts
        self.critical_ms = critical_ms  # 0: not critical; else check in at least this often
        self.coro = fn(*args)
        self.state = S_READY
        self.nxt = None  # intrusive link: ready queue or a wait list
        self.wake = 0  # ticks_ms deadline while in the timer heap
        self.hi = -1  # index in the timer heap, -1 when not there
        self.wait_on = None  # the waitable whose list holds this task
        self.val = _V_NONE  # what the current await returns when resumed
        self.data = None  # an item handed over by a queue
        self.pending = None  # exception to throw in at the next resumption
        self.result = None
        self.error = None  # the last exception that escaped the task
        self.restarts = 0
        self.started_ms = 0
        self.checkin_ms = 0
        self._wh = None  # tasks waiting in join()
        self._wt = None
        self._owner = sched
        # stats
        self.runs = 0
        self.run_s = 0  # run time = run_s seconds + run_us microseconds (small ints)
        self.run_us = 0
        self.worst_us = 0

    def done(self):
        return self.state >= S_DONE

    def cancel(self):
        """Stop the task at its next resumption by raising CancelledError inside it."""
        s = self.sched
        if self.state >= S_DONE:
            return False
        if self is s.cur:
            raise _CANCEL
        self.pending = _CANCEL
        if self.state == S_BACKOFF:
            s._heap_remove(self)
            s._finish(self, S_CANCELLED, None)
            return True
        s._unblock(self)
        if self.state != S_READY:
            s._make_ready(self, _V_NONE)
        return True

    def join(self, timeout_ms=-1):
        """await task.join(): True once the task has ended, False on timeout."""
        return self.sched._block_on(self, self.state >= S_DONE, timeout_ms)

    def run_time_us(self):
        return self.run_s * 1000000 + self.run_us

    def __repr__(self):
        return "<Task %s %s>" % (self.name, STATE_NAMES[self.state])


class Scheduler:
    def __init__(self, clock=None, max_tasks=32, idle=None, log=None,
                 slice_budget_us=20000):
        c = clock if clock is not None else _clock.active()
        self.clock = c
        self._tms = c.ticks_ms
        self._tus = c.ticks_us
        self._tdiff = c.ticks_diff
        self._tadd = c.ticks_add
        self.max_tasks = max_tasks
        self.idle = idle  # idle(ms): called with the time to the next deadline
        self.log = log if log is not None else Log(32, clock=c)
        self.slice_budget_us = slice_budget_us
        self.tasks = []
        self.cur = None
        self.irq = False  # set from interrupt context by Flag.set()
        self._flags = []
        self._head = [None] * N_PRIO
        self._tail = [None] * N_PRIO
        self._mask = 0
        self._heap = [None] * max_tasks
        self._hn = 0
        self._stop = False
        self._next_id = 1
        self._wdt_feed = None
        self._wdt_period_ms = 0
        self._wdt_next = 0
        self.wdt_feeds = 0
        self.wdt_starved = 0  # checks where some critical task was late
        self.idle_ms = 0  # total time handed to the idle hook
        self.slices_over_budget = 0

    # ---- tasks -------------------------------------------------------------------------
    def spawn(self, fn, *args, name=None, prio=PRIO_BACKGROUND, restart=RESTART_NEVER,
              backoff_ms=100, max_backoff_ms=10000, max_restarts=8, critical_ms=0):
        """Create a task running fn(*args), which must be an async def function."""
        if not 0 <= prio < N_PRIO:
            raise ValueError("prio must be 0..%d" % (N_PRIO - 1))
        live = 0
        for t in self.tasks:
            if t.state < S_DONE:
                live += 1
        if live >= self.max_tasks:
            raise SchedulerError("too many tasks (max_tasks=%d)" % self.max_tasks)
        self.tasks = [t for t in self.tasks if t.state < S_DONE or t.restart]
        t = Task(self, self._next_id, fn, args, name or getattr(fn, "__name__", "task"),
                 prio, restart, backoff_ms, max_backoff_ms, max_restarts, critical_ms)
        self._next_id += 1
        now = self._tms()
        t.started_ms = now
        t.checkin_ms = now
        self.tasks.append(t)
        self._push(t)
        return t

    def watchdog(self, feed, period_ms):
        """Call feed() every period_ms, but only while every critical task has checked
        in within its own critical_ms. A board passes its WDT's feed."""
        self._wdt_feed = feed
        self._wdt_period_ms = period_ms
        self._wdt_next = self._tadd(self._tms(), period_ms)

    def stop(self):
        self._stop = True

    # ---- ready queues ------------------------------------------------------------------
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

    # ---- timer heap (keyed by wake tick, wraparound-safe) ------------------------------
    def _heap_push(self, t):
        h = self._heap
        i = self._hn
        if i >= len(h):
            raise SchedulerError("timer heap full")
        self._hn = i + 1
        self._sift_up(t, i)

    def _sift_up(self, t, i):
        h = self._heap
        diff = self._tdiff
        w = t.wake
        while i:
            p = (i - 1) >> 1
            q = h[p]
            if diff(w, q.wake) >= 0:
                break
            h[i] = q
            q.hi = i
            i = p
        h[i] = t
        t.hi = i

    def _sift_down(self, t, i):
        h = self._heap
        n = self._hn
        diff = self._tdiff
        w = t.wake
        while True:
            c = 2 * i + 1
            if c >= n:
                break
            r = c + 1
            if r < n and diff(h[r].wake, h[c].wake) < 0:
                c = r
            q = h[c]
            if diff(q.wake, w) >= 0:
                break
            h[i] = q
            q.hi = i
            i = c
        h[i] = t
        t.hi = i

    def _heap_remove(self, t):
        i = t.hi
        if i < 0:
            return
        t.hi = -1
        n = self._hn - 1
        self._hn = n
        h = self._heap
        last = h[n]
        h[n] = None
        if i == n:
            return
        self._sift_down(last, i)
        if last.hi == i:
            self._sift_up(last, i)

    def _sleep_until(self, t, wake):
        t.wake = wake
        self._heap_push(t)

    # ---- blocking and waking (used by the primitives in runtime/sync.py) -------------
    def _block_on(self, w, ready_now, timeout_ms):
        """Suspend the current task on waitable w (which keeps a _wh/_wt task list), or
        finish at once with True if ready_now, or False if timeout_ms == 0."""
        t = self.cur
        if ready_now:
            t.val = _V_TRUE
            _SUSPEND.armed = False
            return _SUSPEND
        if timeout_ms == 0:
            t.val = _V_FALSE
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

    def _wake_first(self, w, val=_V_TRUE):
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

    def _wake_all(self, w, val=_V_TRUE):
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
                self._wake_first(f, _V_TRUE)

    # ---- ending tasks, supervision ------------------------------------------------------
    def _finish(self, t, state, result):
        t.state = state
        t.result = result
        t.coro = None
        self._wake_all(t, _V_TRUE)

    def _failed(self, t, e):
        t.error = e
        log = self.log
        log.error("task failed", t.name, _describe(e))
        tb = _traceback_text(e)
        if tb:
            log.error("traceback", t.name, tb)
        self._retire(t, True, None)

    def _retire(self, t, failed, result):
        policy = t.restart
        if policy == RESTART_ALWAYS or (failed and policy == RESTART_ON_ERROR):
            now = self._tms()
            if self._tdiff(now, t.started_ms) > t.max_backoff_ms:
                t.restarts = 0  # it ran healthily for a while: start the backoff again
            if t.restarts >= t.max_restarts:
                self.log.error("task gave up after restarts", t.name, t.restarts)
                self._finish(t, S_FAILED if failed else S_DONE, result)
                return
            delay = t.backoff_ms << t.restarts
            if delay > t.max_backoff_ms:
                delay = t.max_backoff_ms
            t.restarts += 1
            t.coro = None
            t.state = S_BACKOFF
            self.log.log(WARN if failed else INFO, "task restarting in ms", t.name, delay)
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

    def _fire_timers(self, now):
        h = self._heap
        diff = self._tdiff
        while self._hn and diff(h[0].wake, now) <= 0:
            t = h[0]
            self._heap_remove(t)
            st = t.state
            if st == S_SLEEPING:
                t.val = _V_NONE
                self._push(t)
            elif st == S_WAITING:  # a wait with a timeout ran out
                self._unblock(t)
                t.val = _V_FALSE
                self._push(t)
            elif st == S_BACKOFF:
                self._restart(t)

    def _check_watchdog(self, now):
        diff = self._tdiff
        if diff(now, self._wdt_next) < 0:
            return
        self._wdt_next = self._tadd(now, self._wdt_period_ms)
        for t in self.tasks:
            if t.critical_ms and diff(now, t.checkin_ms) > t.critical_ms:
                self.wdt_starved += 1
                self.log.error("watchdog not fed: critical task late", t.name)
                return
        self.wdt_feeds += 1
        self._wdt_feed()

    # ---- the loop -----------------------------------------------------------------------
    def run(self, until_ms=None, until=None):
        """Run tasks, idling through the idle hook when nothing is ready. Returns when
        stop() is called, when `until_ms` ms have passed, when the task `until` has
        ended, or when nothing could ever run again."""
        self._stop = False
        tms = self._tms
        deadline = None if until_ms is None else self._tadd(tms(), until_ms)
        while self._slices(deadline, until, -1) == _IDLE:
            ms = self._time_to_next(tms(), deadline)
            if ms < 0:
                if not self._idle_forever_possible():
                    return  # nothing can ever wake: the run is over
                ms = _MAX_IDLE_MS
            elif ms > _MAX_IDLE_MS and not self.clock.virtual:
                ms = _MAX_IDLE_MS
            if ms > 0 and not self.irq:
                self.idle_ms += ms
                if self.idle is not None:
                    self.idle(ms)
                else:
                    self.clock.sleep_ms(ms)

    def step(self, max_slices=-1):
        """Run what is ready now, without idling (for a host loop that does its own
        waiting, like the simulator). Returns 0 if tasks are still ready (max_slices ran
        out), else the ms until the next deadline, or -1 if only an interrupt could wake
        anything."""
        self._stop = False
        if self._slices(None, None, max_slices) != _IDLE:
            return 0
        if self.irq:
            return 0
        return self._time_to_next(self._tms(), None)

    def _idle_forever_possible(self):
        """With no deadline at all, can anything still wake? (A flag an interrupt sets.)"""
        if self.idle is None and self.clock.virtual:
            return False
        for f in self._flags:
            if f._wh is not None:
                return True
        return False

    def _time_to_next(self, now, deadline):
        """ms to the nearest timer / run deadline / watchdog check (0 if one is due);
        -1 if there is none."""
        ms = None
        diff = self._tdiff
        if self._hn:
            ms = diff(self._heap[0].wake, now)
        if deadline is not None:
            d = diff(deadline, now)
            if ms is None or d < ms:
                ms = d
        if self._wdt_feed is not None:
            d = diff(self._wdt_next, now)
            if ms is None or d < ms:
                ms = d
        if ms is None:
            return -1
        return ms if ms > 0 else 0

    def _slices(self, deadline, until, max_slices):
        """Run task slices until nothing is ready (_IDLE), or stop / deadline / `until`
        ended (_STOP), or max_slices ran (_MORE). The hot path: no allocation."""
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
                    return _STOP
                if until is not None and until.state >= S_DONE:
                    return _STOP
                m = self._mask  # pop the head of the most urgent ready queue (inlined)
                if not m:
                    return _IDLE
                if n == 0:
                    return _MORE
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
                    self.log.warn("slice over budget us", t.name, dt)
            return _STOP
        finally:
            _sched = prev
            self.cur = None

    # ---- introspection ---------------------------------------------------------------
    def stats(self):
        """[(name, state, prio, runs, run_time_us, worst_slice_us, restarts)]"""
        return [(t.name, STATE_NAMES[t.state], t.prio, t.runs, t.run_time_us(),
                 t.worst_us, t.restarts) for t in self.tasks]


def _describe(e):
    return "%s: %s" % (type(e).__name__, e)


def _traceback_text(e):
    pe = getattr(sys, "print_exception", None)
    if pe is None:
        return None
    try:
        import io
        buf = io.StringIO()
        pe(e, buf)
        return buf.getvalue()
    except Exception:
        return None


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
    t.val = _V_NONE
    _SUSPEND.armed = True
    return _SUSPEND


def checkin():
    """A critical task calls this to say it is alive (see Scheduler.watchdog)."""
    s = _sched
    s.cur.checkin_ms = s._tms()
