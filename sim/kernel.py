"""The simulator's kernel: one asyncio event loop that runs everything below the HAL line
(virtual parts, the bumble radio, scenario events, hosts in the same process) and drives
the firmware's own scheduler as one of its tasks.

Time. In virtual mode the loop is a VirtualTimeLoop: its clock is the firmware's
VirtualClock, and whenever nothing is ready the loop jumps straight to its next timer
instead of sleeping, so a run goes as fast as the CPU allows and repeats exactly from its
seed. In real-time mode it is a plain asyncio loop and the firmware uses a RealClock.

The firmware runs in the same thread: `FirmwareDriver` calls `Scheduler.step()` (run what
is ready), then hands the time to the next deadline to the board's idle hook (on the sim
board that records the power state: lightsleep or not) and waits in the loop until that
deadline or until an interrupt source calls `kick()`.
"""
import asyncio
import contextlib
import selectors
import time

from sim import mirror

mirror.install()

from firmware.runtime.clock import RealClock, VirtualClock  # noqa: E402


class SimulationStalled(RuntimeError):
    """Virtual time: nothing is ready, nothing is scheduled, nothing can ever happen."""


class _JumpingSelector(selectors.BaseSelector):
    """Wraps a real selector: polls it without blocking, and turns every wait into a jump
    of the virtual clock by the wait's length."""

    def __init__(self, clock):
        self._real = selectors.DefaultSelector()
        self._clock = clock
        self.holds = 0  # hold(): wait for real I/O (another process) with the clock frozen
        self.hold_until = 0.0  # ... until this real time at most

    def register(self, fileobj, events, data=None):
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj):
        return self._real.unregister(fileobj)

    def modify(self, fileobj, events, data=None):
        return self._real.modify(fileobj, events, data)

    def select(self, timeout=None):
        ready = self._real.select(0)
        if ready:
            return ready
        if self.holds and time.monotonic() < self.hold_until and timeout != 0:
            # a worker process computes: virtual time stands still meanwhile (its cost is
            # charged afterwards, host_tools/voice/compute.py)
            return self._real.select(0.05)
        if timeout is None:
            raise SimulationStalled("virtual time: nothing is scheduled and nothing can wake")
        if timeout > 0:
            # to the nearest microsecond: timers are set in whole microseconds, and the
            # float arithmetic of loop.time() must not make them fire 1 us late
            self._clock.advance_us(max(1, round(timeout * 1e6)))
        return []

    def close(self):
        self._real.close()

    def get_map(self):
        return self._real.get_map()

    def get_key(self, fileobj):
        return self._real.get_key(fileobj)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop on the firmware's VirtualClock. loop.time() is seconds of virtual
    time since the clock started."""

    def __init__(self, clock):
        self.vclock = clock
        super().__init__(selector=_JumpingSelector(clock))
        self._clock_resolution = 1e-6

    def time(self):
        c = self.vclock
        return c.elapsed_s + c._elapsed_us / 1e6

    @contextlib.contextmanager
    def hold(self, real_s=60.0):
        """While inside: when nothing is ready, wait for real I/O (a worker process's
        answer) instead of jumping the clock, for at most real_s of real time (then time
        moves again, so the caller's own timeout can fire)."""
        sel = self._selector
        sel.holds += 1
        sel.hold_until = max(sel.hold_until, time.monotonic() + real_s)
        try:
            yield
        finally:
            sel.holds -= 1
            if not sel.holds:
                sel.hold_until = 0.0


def new_loop(virtual, seed=0):
    """(loop, firmware clock) for a run: virtual time from `seed`, or real time."""
    if virtual:
        clock = VirtualClock(seed)
        return VirtualTimeLoop(clock), clock
    return asyncio.new_event_loop(), RealClock()


def _resolve(fut):
    if not fut.done():
        fut.set_result(None)


class FirmwareDriver:
    """Drives a firmware Scheduler from the asyncio loop.

    Each round: run what is ready (`step`), then hand the time to the next deadline to the
    board's idle hook (ms > 0, or -1: only an interrupt can wake it) and wait in the loop
    until that deadline or a `kick()`; `on_wake` is called when the wait ends (the power
    meter counts wakes there). A kick during a step makes the next round start at once.
    """

    def __init__(self, sched, idle=None, max_slices=64, on_wake=None):
        self.sched = sched
        self.idle = idle  # the board's idle hook: called with ms before each wait
        self.on_wake = on_wake
        self.max_slices = max_slices
        self._fut = None
        self._kicked = False
        self.waits = 0
        self.stopped = False

    def kick(self):
        """An interrupt source fired (a pin IRQ, radio data): re-run the scheduler now."""
        self._kicked = True
        f = self._fut
        if f is not None and not f.done():
            f.set_result(None)

    def stop(self):
        self.stopped = True
        self.sched.stop()
        self.kick()

    async def run(self):
        loop = asyncio.get_running_loop()
        sched = self.sched
        while not self.stopped:
            self._kicked = False
            ms = sched.step(self.max_slices)
            if ms == 0:
                await asyncio.sleep(0)  # let the radio and the parts run between slices
                continue
            if sched.irq or self._kicked or self.stopped:
                continue
            if self.idle is not None:
                self.idle(ms)
            self.waits += 1
            fut = self._fut = loop.create_future()
            timer = loop.call_later(ms / 1000, _resolve, fut) if ms > 0 else None
            try:
                await fut
            finally:
                self._fut = None
                if timer is not None:
                    timer.cancel()
            if self.on_wake is not None:
                self.on_wake()
