# A scheduler task: the coroutine of an async def function, with where it waits, its
# restart policy and its run-time figures. Scheduler.spawn() makes them.
from firmware.runtime.switch import (S_READY, S_BACKOFF, S_DONE, S_CANCELLED, STATE_NAMES,
                                     V_NONE, CancelledError)

_CANCEL = CancelledError()


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
        self.val = V_NONE  # what the current await returns when resumed
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
            s._make_ready(self, V_NONE)
        return True

    def join(self, timeout_ms=-1):
        """await task.join(): True once the task has ended, False on timeout."""
        return self.sched._block_on(self, self.state >= S_DONE, timeout_ms)

    def run_time_us(self):
        return self.run_s * 1000000 + self.run_us

    def __repr__(self):
        return "<Task %s %s>" % (self.name, STATE_NAMES[self.state])
