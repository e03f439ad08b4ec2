# MicroPython only: the scheduler's switch path allocates nothing.
#
# Tasks are created first; then the scheduler runs thousands of switches through every
# kind of suspension (zero and timed sleeps, Event, IRQ Flag, Queue put/wait with
# backpressure, join with timeout) twice: once counting bytes allocated (this build only
# collects garbage between top-level calls, so gc.mem_alloc() counts every allocation),
# and once under micropython.heap_lock(), where any allocation raises MemoryError.
import gc
import micropython

from firmware.runtime import sched as S
from firmware.runtime.clock import VirtualClock
from firmware.runtime.sync import Event, Flag, Queue

ROUNDS = 300


def _build():
    clock = VirtualClock(11)
    irq_countdown = [3]

    def idle(ms):  # an "interrupt" sets the flag every third idle period
        clock.advance_us(ms * 1000)
        irq_countdown[0] -= 1
        if irq_countdown[0] == 0:
            irq_countdown[0] = 3
            flag.set()

    s = S.Scheduler(clock=clock, idle=idle, max_tasks=8)
    flag = Flag(s)
    ev = Event()
    q = Queue(2)
    counts = [0, 0, 0, 0, 0, 0]

    async def yielder():  # busy for four slices, then lets (virtual) time pass
        while True:
            for _ in range(4):
                await S.sleep_ms(0)
                counts[0] += 1
            await S.sleep_ms(1)

    async def sleeper():
        while True:
            await S.sleep_ms(3)
            counts[1] += 1
            ev.set()

    async def event_waiter():
        while True:
            if await ev.wait(50):
                ev.clear()
                counts[2] += 1

    async def flag_waiter():
        while True:
            if await flag.wait(100):
                counts[3] += 1

    async def producer():
        i = 0
        while True:
            if await q.put(i, 20):
                i += 1

    async def consumer():
        while True:
            if await q.wait(20):
                q.get_nowait()
                counts[4] += 1
            await S.sleep_ms(1)

    async def joiner():
        while True:
            if not await t_yield.join(2):
                counts[5] += 1

    t_yield = s.spawn(yielder, prio=S.PRIO_BACKGROUND)
    s.spawn(sleeper, prio=S.PRIO_SENSOR)
    s.spawn(event_waiter, prio=S.PRIO_LINK)
    s.spawn(flag_waiter, prio=S.PRIO_AUDIO)
    s.spawn(producer, prio=S.PRIO_SENSOR)
    s.spawn(consumer, prio=S.PRIO_BACKGROUND)
    s.spawn(joiner, prio=S.PRIO_LINK)
    s.watchdog(lambda: None, 10)
    s.run(until_ms=5)  # warm up: every task reaches its loop once
    return s, counts


def _resumptions(s):
    n = 0
    for t in s.tasks:
        n += t.runs
    return n


def test_switch_path_allocates_nothing():
    s, counts = _build()
    before = _resumptions(s)
    a0 = gc.mem_alloc()
    s.run(until_ms=ROUNDS)
    allocated = gc.mem_alloc() - a0
    switches = _resumptions(s) - before
    assert switches > 1000, switches
    assert all(counts), counts  # every kind of suspension was exercised
    assert allocated == 0, "%d bytes allocated over %d switches" % (allocated, switches)


def test_scheduler_runs_under_heap_lock():
    s, counts = _build()
    before = _resumptions(s)
    micropython.heap_lock()
    try:
        s.run(until_ms=ROUNDS)
    finally:
        micropython.heap_unlock()
    switches = _resumptions(s) - before
    assert switches > 1000, switches
    assert all(counts), counts
    failed = [t.name for t in s.tasks if t.state >= S.S_DONE]
    assert not failed, failed


def test_tick_arithmetic_at_the_wrap_allocates_nothing():
    from firmware.runtime.clock import ticks_add, ticks_diff
    top = (1 << 30) - 1
    a0 = gc.mem_alloc()
    x = 0
    for i in range(1000):
        x += ticks_diff(ticks_add(top - 5, i), top - 5)
        x += ticks_diff(i, top - i)
    assert gc.mem_alloc() - a0 == 0
    assert x > 0
