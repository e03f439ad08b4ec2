# Scheduler supervision: cancelling and joining tasks, restarts with backoff, the watchdog,
# stats and spawn limits. Runs under CPython (pytest) and MicroPython (tests/mpy/run.py).
import sys

from fwtest import raises, virtual_scheduler

from firmware.runtime.log import text_of
from firmware.runtime import sched as S
from firmware.runtime.clock import VirtualClock
from firmware.runtime.sync import Event


def test_cancel_and_join():
    s = virtual_scheduler()
    events = []

    async def sleeper():
        try:
            await S.sleep_ms(10000)
        except S.CancelledError:
            events.append("cancelled")
            raise

    async def boss():
        t = s.spawn(sleeper)
        await S.sleep_ms(5)
        assert t.cancel()
        events.append(("joined", await t.join(100), t.state == S.S_CANCELLED))
        assert not t.cancel()  # already ended

    async def short():
        await S.sleep_ms(3)
        return 42

    async def joiner():
        t = s.spawn(short)
        events.append(("timeout", await t.join(1)))
        events.append(("done", await t.join(), t.result))

    s.spawn(boss)
    s.spawn(joiner)
    s.run()
    assert "cancelled" in events
    assert ("joined", True, True) in events, events
    assert ("timeout", False) in events and ("done", True, 42) in events, events


def test_cancel_a_waiting_task_removes_it_from_the_wait_list():
    s = virtual_scheduler()
    ev = Event()
    got = []

    async def waiter(tag):
        try:
            got.append((tag, await ev.wait()))
        except S.CancelledError:
            got.append((tag, "cancelled"))

    async def main():
        a = s.spawn(waiter, "a")
        s.spawn(waiter, "b")
        await S.sleep_ms(1)
        a.cancel()
        await S.sleep_ms(1)
        ev.set()

    s.spawn(main)
    s.run()
    assert got == [("a", "cancelled"), ("b", True)], got


def test_a_failing_task_is_restarted_with_backoff_and_the_loop_survives():
    s = virtual_scheduler()
    starts = []

    async def flaky():
        starts.append(s.clock.elapsed_ms())
        await S.sleep_ms(1)
        raise ValueError("sensor fell off the bus")

    async def steady():
        for _ in range(50):
            await S.sleep_ms(20)

    s.spawn(flaky, restart=S.RESTART_ON_ERROR, backoff_ms=10, max_backoff_ms=40,
            max_restarts=4)
    st = s.spawn(steady)
    s.run()
    # first start, then restarts after 10, 20, 40, 40 ms of backoff (each run lasts 1 ms)
    assert starts == [0, 11, 32, 73, 114], starts
    assert st.state == S.S_DONE
    flaky_task = [t for t in s.tasks if t.name == "flaky"][0]
    assert flaky_task.state == S.S_FAILED and flaky_task.restarts == 4
    msgs = [text_of(r[3], r[4], r[5]) for r in s.log.records()]
    assert "task flaky failed: ValueError: sensor fell off the bus" in msgs, msgs
    assert "task flaky gave up after 4 restarts" in msgs, msgs


def test_watchdog_is_fed_only_while_critical_tasks_check_in():
    s = virtual_scheduler()
    feeds = []
    s.watchdog(lambda: feeds.append(s.clock.elapsed_ms()), 100)

    async def critical():
        for _ in range(5):  # checks in every 50 ms for 250 ms, then hangs (stops checking)
            S.checkin()
            await S.sleep_ms(50)
        await S.sleep_ms(10000)

    s.spawn(critical, critical_ms=120)
    s.run(until_ms=1000)
    assert feeds and max(feeds) <= 400, feeds
    assert feeds[:3] == [100, 200, 300], feeds
    assert s.wdt_starved >= 5


def test_stats_count_resumptions_and_warn_on_long_slices():
    clock = VirtualClock(1)
    s = S.Scheduler(clock=clock, slice_budget_us=5000)

    async def hog():
        for _ in range(3):
            clock.advance_us(8000)  # an 8 ms slice
            await S.sleep_ms(0)

    s.spawn(hog)
    s.run()
    name, state, prio, runs, run_us, worst, restarts = s.stats()[0]
    assert (name, state, runs) == ("hog", "done", 4), s.stats()
    assert run_us == 24000 and worst == 8000, s.stats()
    assert s.slices_over_budget == 3
    texts = [text_of(r[3], r[4], r[5]) for r in s.log.records()]
    assert "hog ran 8000 us in one slice, over its budget" in texts, texts


def test_spawn_limits_and_bad_arguments():
    s = virtual_scheduler(max_tasks=2)

    async def nap():
        await S.sleep_ms(1)

    s.spawn(nap)
    s.spawn(nap)
    raises(S.SchedulerError, s.spawn, nap)
    raises(ValueError, s.spawn, nap, prio=9)
    s.run()
    s.spawn(nap)  # finished tasks free their slots
    s.run()


def test_a_task_out_of_memory_is_logged_with_its_name_and_the_heap_left_the_rest_runs():
    s = virtual_scheduler()
    ticks = []

    async def greedy():
        await S.sleep_ms(5)
        hog = [bytearray(4096)]
        # more than any heap has (a terabyte; on a 32-bit port the largest size there is)
        hog.append(bytearray(1 << 40 if sys.maxsize > 1 << 32 else 0x7FFFFFFF))

    async def steady():
        for _ in range(10):
            ticks.append(s.clock.ticks_ms())
            await S.sleep_ms(10)

    g = s.spawn(greedy, name="greedy", restart=S.RESTART_NEVER)
    s.spawn(steady, name="steady")
    s.run()
    assert len(ticks) == 10  # the loop and the other task went on
    assert g.state == S.S_FAILED and isinstance(g.error, MemoryError)
    recs = [(m, a, b) for _, _, _, m, a, b in s.log.records()]
    oom = [r for r in recs if r[0].startswith("task %s out of memory")]
    assert oom and oom[0][1] == "greedy", recs
    assert isinstance(oom[0][2], int)  # the free heap (-1 under CPython, which cannot tell)
    assert "task greedy out of memory, " in text_of(*oom[0])
    assert any(r[0] == "task %s failed: %s" and r[1] == "greedy" and "MemoryError" in r[2]
               for r in recs), recs
