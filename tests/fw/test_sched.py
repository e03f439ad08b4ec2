# Scheduler behaviour: priorities, timers, the sync primitives, run and step (supervision is in
# test_sched_supervision.py). Runs under CPython (pytest) and MicroPython (tests/mpy/run.py).
from fwtest import raises, virtual_scheduler

from firmware.runtime import sched as S
from firmware.runtime.clock import VirtualClock, PERIOD
from firmware.runtime.sync import Event, Flag, Queue, QueueFull, QueueEmpty


def test_priorities_run_first_and_fifo_within_a_level():
    s = virtual_scheduler()
    order = []

    async def job(tag):
        order.append(tag)
        await S.sleep_ms(0)
        order.append(tag + "'")

    s.spawn(job, "bg1", prio=S.PRIO_BACKGROUND)
    s.spawn(job, "bg2", prio=S.PRIO_BACKGROUND)
    s.spawn(job, "audio", prio=S.PRIO_AUDIO)
    s.spawn(job, "sensor", prio=S.PRIO_SENSOR)
    s.spawn(job, "link", prio=S.PRIO_LINK)
    s.run()
    assert order == ["audio", "audio'", "link", "link'", "sensor", "sensor'",
                     "bg1", "bg2", "bg1'", "bg2'"], order


def test_sleep_wakes_on_time_in_virtual_time_and_idle_gets_the_gap():
    gaps = []
    clock = VirtualClock(7)
    s = S.Scheduler(clock=clock, idle=lambda ms: (gaps.append(ms), clock.advance_ms(ms)))
    woke = []

    async def sleeper(ms):
        await S.sleep_ms(ms)
        woke.append((ms, clock.elapsed_ms()))

    for ms in (30, 10, 20):
        s.spawn(sleeper, ms)
    s.run()
    assert woke == [(10, 10), (20, 20), (30, 30)], woke
    assert gaps == [10, 10, 10], gaps
    assert s.idle_ms == 30


def test_timers_survive_tick_wraparound():
    clock = VirtualClock(0, start_ms=PERIOD - 15)  # 15 ms before the ticks wrap
    s = S.Scheduler(clock=clock)
    woke = []

    async def sleeper(ms):
        await S.sleep_ms(ms)
        woke.append((ms, clock.ticks_ms()))

    for ms in (40, 5, 20):
        s.spawn(sleeper, ms)
    s.run()
    assert [w[0] for w in woke] == [5, 20, 40], woke
    assert woke[1][1] == 5 and woke[2][1] == 25, woke  # wrapped past zero


def test_event_wait_with_timeout_then_set_wakes_all_waiters():
    s = virtual_scheduler()
    ev = Event()
    got = []

    async def waiter(tag):
        got.append((tag, await ev.wait(5)))
        got.append((tag, await ev.wait()))

    async def setter():
        await S.sleep_ms(50)
        ev.set()

    s.spawn(waiter, "a")
    s.spawn(waiter, "b")
    s.spawn(setter)
    s.run()
    assert got == [("a", False), ("b", False), ("a", True), ("b", True)], got


def test_flag_set_from_interrupt_context_wakes_exactly_its_waiter():
    clock = VirtualClock(3)
    irqs = []

    def idle(ms):  # an interrupt arrives 300 ms into the first idle period
        if not irqs:
            clock.advance_ms(300)
            irqs.append(clock.elapsed_ms())
            f2.set()
        else:
            clock.advance_ms(ms)

    s = S.Scheduler(clock=clock, idle=idle)
    f1 = Flag(s)
    f2 = Flag(s)
    woke = []

    async def waiter(tag, f):
        woke.append((tag, await f.wait(1000), clock.elapsed_ms()))

    s.spawn(waiter, "one", f1)
    s.spawn(waiter, "two", f2)
    s.run()
    assert woke == [("two", True, 300), ("one", False, 1000)], woke


def test_flag_set_before_wait_is_kept_and_counts_once():
    s = virtual_scheduler()
    f = Flag(s)
    f.set()
    f.set()
    res = []

    async def waiter():
        res.append(await f.wait(10))
        res.append(await f.wait(10))

    s.spawn(waiter)
    s.run()
    assert res == [True, False], res


def test_flag_refuses_a_second_waiter():
    s = virtual_scheduler()
    f = Flag(s)
    errs = []

    async def w():
        await f.wait(100)

    async def w2():
        try:
            await f.wait(100)
        except S.SchedulerError as e:
            errs.append(str(e))

    s.spawn(w)
    s.spawn(w2)
    s.run()
    assert errs and "one waiter" in errs[0], errs


def test_queue_backpressure_blocks_the_producer():
    s = virtual_scheduler()
    q = Queue(2)
    log = []

    async def producer():
        for i in range(5):
            ok = await q.put(i)
            log.append(("put", i, ok, s.clock.elapsed_ms()))

    async def consumer():
        for _ in range(5):
            await S.sleep_ms(10)
            assert await q.wait()
            log.append(("get", q.get_nowait(), s.clock.elapsed_ms()))

    s.spawn(producer)
    s.spawn(consumer)
    s.run()
    puts = [e for e in log if e[0] == "put"]
    gets = [e[1] for e in log if e[0] == "get"]
    assert gets == [0, 1, 2, 3, 4], log
    assert [p[3] for p in puts] == [0, 0, 10, 20, 30], puts  # blocked while full
    assert len(q) == 0


def test_queue_timeouts_and_errors():
    s = virtual_scheduler()
    q = Queue(1)
    out = []

    async def t():
        out.append(await q.wait(5))  # empty: times out
        out.append(await q.put("a", 5))
        out.append(await q.put("b", 5))  # full: times out, not queued
        try:
            await q.get(3)
            out.append("got")
        except S.Timeout:
            out.append("timeout")
        out.append(q.get_nowait() if len(q) else None)
        try:
            await q.get(3)
        except S.Timeout:
            out.append("timeout")

    s.spawn(t)
    s.run()
    assert out == [False, True, False, "got", None, "timeout"], out
    assert isinstance(raises(QueueEmpty, q.get_nowait), QueueEmpty)
    q.put_nowait(1)
    raises(QueueFull, q.put_nowait, 2)
    q.put_drop_oldest(3)
    assert q.dropped == 1 and q.get_nowait() == 3
    raises(ValueError, Queue, 0)


def test_high_priority_wake_preempts_runnable_low_priority_tasks():
    s = virtual_scheduler()
    trace = []
    flag = Flag(s)

    async def low(i):
        for _ in range(3):
            trace.append("L")
            if i == 7 and len(trace) == 8:
                flag.set()  # as an interrupt would, in the middle of the low tasks
            await S.sleep_ms(0)

    async def high():
        await flag.wait()
        trace.append("H")

    s.spawn(high, prio=S.PRIO_AUDIO)
    for i in range(20):
        s.spawn(low, i)
    s.run()
    i = trace.index("H")
    assert trace.count("L") == 60
    # the flag was set during low #7's first slice (trace[7]); H runs right after it
    assert i == 8, (i, trace[:12])


def test_run_for_a_while_then_continue():
    s = virtual_scheduler()
    ticks = []

    async def ticker():
        while True:
            await S.sleep_ms(100)
            ticks.append(s.clock.elapsed_ms())

    s.spawn(ticker)
    s.run(until_ms=350)
    assert ticks == [100, 200, 300], ticks
    s.run(until_ms=200)
    assert ticks == [100, 200, 300, 400, 500], ticks


def test_step_runs_what_is_ready_and_reports_the_next_deadline():
    s = virtual_scheduler()
    f = Flag(s)
    seen = []

    async def ticker():
        for _ in range(2):
            await S.sleep_ms(40)
            seen.append("tick")

    async def waiter():
        await f.wait()
        seen.append("irq")

    s.spawn(ticker)
    s.spawn(waiter)
    assert s.step() == 40  # both ran to their first wait; the timer is 40 ms away
    s.clock.advance_ms(40)
    assert s.step() == 40 and seen == ["tick"]
    f.set()  # an interrupt while the host loop waits
    assert s.step() == 40 and seen == ["tick", "irq"]
    s.clock.advance_ms(40)
    assert s.step() == -1 and seen == ["tick", "irq", "tick"]  # nothing left to wake


def test_step_with_a_slice_budget_returns_zero_while_work_remains():
    s = virtual_scheduler()

    async def busy():
        for _ in range(10):
            await S.sleep_ms(0)

    s.spawn(busy)
    assert s.step(max_slices=3) == 0
    assert s.tasks[0].runs == 3
    while s.step(max_slices=3) == 0:
        pass
    assert s.tasks[0].runs == 11 and s.tasks[0].done()


def test_event_and_queue_wake_tasks_when_set_from_outside_the_loop():
    # A host loop (the simulator, asyncio on the host) drives the scheduler with step()
    # and sets events / fills queues between steps.
    s = virtual_scheduler()
    ev = Event()
    q = Queue(1)
    got = []

    async def waiter():
        got.append(("ev", await ev.wait()))

    async def getter():
        if await q.wait():
            got.append(("q", q.get_nowait()))

    async def putter():
        await q.put("a")
        got.append(("put", await q.put("b", 1000)))

    s.spawn(waiter)
    s.spawn(getter)
    assert s.step() == -1 and got == []
    ev.set()
    q.put_nowait("x")
    assert s.step() == -1
    assert got == [("ev", True), ("q", "x")], got
    s.spawn(putter)
    s.step()
    assert q.get_nowait() == "a"  # from outside: makes room, wakes the blocked putter
    s.step()
    assert got[-1] == ("put", True) and q.get_nowait() == "b"
