# The scheduler's timers: a binary heap of tasks keyed by wake tick (ms), compared with
# ticks_diff so wraparound is safe. Its array is preallocated to max_tasks; each task keeps
# its index in it (task.hi, -1 when not there) so it can be taken out from anywhere.
#
# Scheduler methods, bound into the class by sched.py (see runtime/switch.py).
from firmware.runtime.switch import SchedulerError


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
