# The cooperative scheduler: async def tasks driven without asyncio.
#
# This module is the scheduler's public face: the Scheduler class and, re-exported from the
# modules that hold them, the names tasks use (priorities, restart policies, task states,
# exceptions, sleep_ms / checkin / current). Its parts, each a sibling module:
# - runtime/switch.py: ready queues, suspension through one shared awaitable, waking, the
#   slice loop. Nothing on that path allocates.
# - runtime/timers.py: the timer heap, keyed by wake tick, wraparound-safe.
# - runtime/supervise.py: ending tasks, restart with backoff, the watchdog.
# - runtime/task.py: the Task (cancel, join, its figures).
# Here: spawning, and driving the loop (run with tickless idle: when nothing is ready the
# idle hook gets the ms to the next deadline; or step from a host loop).
from firmware.runtime import clock as _clock
from firmware.runtime import supervise as _sv
from firmware.runtime import switch as _sw
from firmware.runtime import timers as _tm
from firmware.runtime.log import Log
from firmware.runtime.supervise import (  # noqa: F401
    RESTART_NEVER, RESTART_ON_ERROR, RESTART_ALWAYS)
from firmware.runtime.switch import (  # noqa: F401
    PRIO_AUDIO, PRIO_LINK, PRIO_SENSOR, PRIO_BACKGROUND, N_PRIO,
    S_READY, S_RUNNING, S_SLEEPING, S_WAITING, S_BACKOFF, S_DONE, S_FAILED, S_CANCELLED,
    STATE_NAMES, IDLE, CancelledError, Timeout, SchedulerError, current, sleep_ms, checkin)
from firmware.runtime.task import Task

from micropython import const

_MAX_IDLE_MS = const(1000)


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

    def stop(self):
        self._stop = True

    # ---- methods written in the sibling modules; bound here, a call finds each in this
    # class's own dict, as if it were written here (no extra lookup on the switch path)
    _push = _sw._push  # ready queues
    _make_ready = _sw._make_ready
    _block_on = _sw._block_on  # blocking and waking
    _wake_first = _sw._wake_first
    _wake_all = _sw._wake_all
    _unblock = _sw._unblock
    _register_flag = _sw._register_flag
    _poll_flags = _sw._poll_flags
    _fire_timers = _sw._fire_timers  # the loop
    _slices = _sw._slices
    _heap_push = _tm._heap_push  # the timer heap
    _sift_up = _tm._sift_up
    _sift_down = _tm._sift_down
    _heap_remove = _tm._heap_remove
    _sleep_until = _tm._sleep_until
    watchdog = _sv.watchdog  # ending tasks, supervision
    _finish = _sv._finish
    _failed = _sv._failed
    _retire = _sv._retire
    _restart = _sv._restart
    _check_watchdog = _sv._check_watchdog

    # ---- the loop -----------------------------------------------------------------------
    def run(self, until_ms=None, until=None):
        """Run tasks, idling through the idle hook when nothing is ready. Returns when
        stop() is called, when `until_ms` ms have passed, when the task `until` has
        ended, or when nothing could ever run again."""
        self._stop = False
        tms = self._tms
        deadline = None if until_ms is None else self._tadd(tms(), until_ms)
        while self._slices(deadline, until, -1) == IDLE:
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
        if self._slices(None, None, max_slices) != IDLE:
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

    # ---- introspection ---------------------------------------------------------------
    def stats(self):
        """[(name, state, prio, runs, run_time_us, worst_slice_us, restarts)]"""
        return [(t.name, STATE_NAMES[t.state], t.prio, t.runs, t.run_time_us(),
                 t.worst_us, t.restarts) for t in self.tasks]
