# Scheduler figures under the official MicroPython build (run by bench/run.py).
#
# The same coroutine body (50 awaits of a zero-length sleep) runs 100 times under three
# drivers, interleaved over several rounds in one process: a bare round-robin loop calling
# coro.send(None) with a minimal yield-once awaitable (the floor), this scheduler, and the
# build's own asyncio (gather). Figures are ratios of the median cost per resumption.
import time

import asyncio
from firmware.runtime import sched as S
from firmware.runtime.clock import RealClock
from firmware.runtime.sync import Flag

N_TASKS = 100
N_AWAITS = 50
ROUNDS = 7


class _YieldOnce:
    def __init__(self):
        self.armed = False
        self.exc = StopIteration()

    def __iter__(self):
        return self

    def __await__(self):
        return self

    def __next__(self):
        if self.armed:
            self.armed = False
            return None
        self.exc.__traceback__ = None
        raise self.exc


_y = _YieldOnce()


def bare_sleep_ms(ms):
    _y.armed = True
    return _y


async def work(sleep):
    for _ in range(N_AWAITS):
        await sleep(0)


def run_bare():
    coros = [work(bare_sleep_ms) for _ in range(N_TASKS)]
    live = coros
    n = 0
    t0 = time.ticks_us()
    while live:
        keep = []
        for c in live:
            try:
                c.send(None)
                keep.append(c)
            except StopIteration:
                pass
            n += 1
        live = keep
    return time.ticks_diff(time.ticks_us(), t0) / n


def run_sched():
    s = S.Scheduler(clock=RealClock(), max_tasks=N_TASKS + 1)
    for _ in range(N_TASKS):
        s.spawn(work, S.sleep_ms)
    t0 = time.ticks_us()
    s.run()
    dt = time.ticks_diff(time.ticks_us(), t0)
    n = 0
    for t in s.tasks:
        n += t.runs
    return dt / n


async def run_asyncio():
    t0 = time.ticks_us()
    await asyncio.gather(*[work(asyncio.sleep_ms) for _ in range(N_TASKS)])
    # asyncio resumes each coroutine N_AWAITS + 1 times, as the others do
    return time.ticks_diff(time.ticks_us(), t0) / (N_TASKS * (N_AWAITS + 1))


def wake_latency():
    """Low-priority slices that run between a high-priority task being made ready (by an
    IRQ flag set inside a low task's slice) and that task starting."""
    s = S.Scheduler(clock=RealClock(), max_tasks=32)
    flag = Flag(s)
    trace = []

    async def high():
        await flag.wait()
        trace.append("H")

    async def low(i):
        for _ in range(5):
            trace.append("L")
            if i == 10 and len(trace) > 40 and "set" not in trace:
                flag.set()
                trace.append("set")
            await S.sleep_ms(0)

    s.spawn(high, prio=S.PRIO_AUDIO)
    for i in range(20):
        s.spawn(low, i, prio=S.PRIO_BACKGROUND)
    s.run()
    i = trace.index("set")
    return trace.index("H") - i - 1


def _median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


async def main():
    bare, sched, aio = [], [], []
    for _ in range(ROUNDS):
        bare.append(run_bare())
        sched.append(run_sched())
        aio.append(await run_asyncio())
    b, s, a = _median(bare), _median(sched), _median(aio)
    return {
        "sched_resume_ratio_vs_bare": round(s / b, 2),
        "sched_resume_ratio_vs_asyncio": round(s / a, 3),
        "sched_us_per_resume_mpy_wasm": round(s, 2),
        "bare_us_per_resume_mpy_wasm": round(b, 2),
        "asyncio_us_per_resume_mpy_wasm": round(a, 2),
        "sched_wake_latency_ticks": wake_latency(),
    }
