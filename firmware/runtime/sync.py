# Synchronisation primitives for scheduler tasks: Event, Flag (IRQ-safe), Queue (bounded).
#
# Waits take timeout_ms (-1: forever, 0: poll) and finish with True (got it) or False
# (timed out). Waiting allocates nothing: the task is linked into the primitive's own
# wait list and the scheduler's shared awaitable is returned.
from firmware.runtime import switch as _s


def _scheduler():
    s = _s._sched
    if s is None:
        raise _s.SchedulerError("no scheduler is running")
    return s


class Event:
    """A level-triggered event: set() wakes every waiter; stays set until clear().
    Not for interrupt context (use Flag there)."""

    def __init__(self):
        self._set = False
        self._wh = None
        self._wt = None
        self._owner = None  # the scheduler of the tasks waiting here

    def is_set(self):
        return self._set

    def set(self):
        """Wake every waiter. Callable from outside the scheduler's loop too (e.g. from a
        host loop that drives it with step()): the woken tasks run at its next step."""
        self._set = True
        if self._wh is not None:
            self._owner._wake_all(self)

    def clear(self):
        self._set = False

    def wait(self, timeout_ms=-1):
        """await ev.wait(): True when set, False after timeout_ms."""
        return _scheduler()._block_on(self, self._set, timeout_ms)


class Flag:
    """A flag a hard or soft interrupt handler may set. set() only stores two attributes
    (no allocation, no list changes); the scheduler then wakes exactly the one task
    waiting on this flag. Several set() calls before the wait count as one."""

    def __init__(self, sched):
        self._sched = sched
        self._owner = sched
        self._set = False
        self._wh = None
        self._wt = None
        sched._register_flag(self)

    def set(self):
        self._set = True
        self._sched.irq = True

    def clear(self):
        self._set = False

    def wait(self, timeout_ms=-1):
        """await flag.wait(): True when set (and clears it), False after timeout_ms."""
        s = self._sched
        if self._wh is not None:
            raise _s.SchedulerError("a Flag has one waiter at a time")
        if self._set:
            self._set = False
            return s._block_on(self, True, timeout_ms)
        return s._block_on(self, False, timeout_ms)


class QueueFull(Exception):
    pass


class QueueEmpty(Exception):
    pass


class _Waiters:
    def __init__(self):
        self._wh = None
        self._wt = None
        self._owner = None


class Queue:
    """A bounded FIFO with backpressure: put() waits while full, wait() while empty.

    Allocation-free use:   ok = await q.put(x, timeout_ms)
                           if await q.wait(): x = q.get_nowait()
    Convenience:           x = await q.get(timeout_ms)   (raises Timeout; one coroutine per call)
    """

    def __init__(self, maxlen):
        if maxlen < 1:
            raise ValueError("queue maxlen must be >= 1")
        self.maxlen = maxlen
        self._buf = [None] * maxlen
        self._r = 0
        self._n = 0
        self._getters = _Waiters()
        self._putters = _Waiters()  # each blocked putter holds its item in task.data
        self.dropped = 0

    def __len__(self):
        return self._n

    def full(self):
        return self._n >= self.maxlen

    def empty(self):
        return self._n == 0

    def _append(self, item):
        i = self._r + self._n
        if i >= self.maxlen:
            i -= self.maxlen
        self._buf[i] = item
        self._n += 1
        g = self._getters
        if g._wh is not None:
            g._owner._wake_first(g)

    def put_nowait(self, item):
        if self._n >= self.maxlen:
            raise QueueFull("queue full (maxlen %d)" % self.maxlen)
        self._append(item)

    def put_drop_oldest(self, item):
        """Put without waiting; when full, drop the oldest item (counted in .dropped)."""
        if self._n >= self.maxlen:
            self._take()
            self.dropped += 1
        self._append(item)

    def put(self, item, timeout_ms=-1):
        """await q.put(x): True once queued, False if still full after timeout_ms."""
        s = _scheduler()
        if self._n < self.maxlen and self._putters._wh is None:
            self._append(item)
            return s._block_on(self._putters, True, 0)
        if timeout_ms != 0:
            s.cur.data = item
        return s._block_on(self._putters, False, timeout_ms)

    def _take(self):
        i = self._r
        item = self._buf[i]
        self._buf[i] = None
        i += 1
        self._r = 0 if i >= self.maxlen else i
        self._n -= 1
        return item

    def get_nowait(self):
        if self._n == 0:
            raise QueueEmpty("queue empty")
        item = self._take()
        w = self._putters
        p = w._wh
        if p is not None:  # move the first blocked putter's item in
            self._append(p.data)
            p.data = None
            w._owner._wake_first(w)
        return item

    def wait(self, timeout_ms=-1):
        """await q.wait(): True when an item is there to get_nowait(), False on timeout."""
        return _scheduler()._block_on(self._getters, self._n > 0, timeout_ms)

    async def get(self, timeout_ms=-1):
        s = _scheduler()
        deadline = s._tadd(s._tms(), timeout_ms) if timeout_ms > 0 else 0
        while self._n == 0:
            left = timeout_ms
            if timeout_ms > 0:
                left = s._tdiff(deadline, s._tms())
                if left <= 0:
                    raise _s.Timeout()
            if not await self.wait(left):
                raise _s.Timeout()
        return self.get_nowait()

    def clear(self):
        while self._n:
            self._take()
