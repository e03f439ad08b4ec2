"""Where the phone's blocking speech work runs, and what it costs in simulated time.

Real time (a real phone, `glasses sim` without --fast): in a worker thread, so the event
loop (and the link) goes on meanwhile; the work takes the time it takes.

Virtual time (the simulator's VirtualTimeLoop, tests, benches): a worker thread would not
stop the virtual clock, so the loop would jump ahead while the thread computes (and time
out the glasses' calls). There the work runs inline, which freezes virtual time, and is
then *charged*: the caller sleeps, in virtual time, the CPU time the work used
(`time.process_time()`, all threads of this process, so eSpeak's own thread counts and
other processes on the machine do not). The result becomes visible when a phone as fast
as this machine would have had it; the link and the glasses run on meanwhile.
"""
import asyncio
import time
from collections import defaultdict


class Compute:
    def __init__(self, charge=None):
        self._charge = charge  # None: decide from the running loop at the first job
        self.charged_s = 0.0
        self.spent = defaultdict(float)  # label -> charged seconds (virtual time only)
        self.calls = defaultdict(int)

    @property
    def charge(self):
        if self._charge is None:  # the simulator's VirtualTimeLoop has a virtual clock
            self._charge = hasattr(asyncio.get_running_loop(), "vclock")
        return self._charge

    async def run(self, label, fn, *args):
        """fn(*args), in a thread (real time) or inline and charged (virtual time)."""
        self.calls[label] += 1
        if not self.charge:
            return await asyncio.to_thread(fn, *args)
        t0 = time.process_time()
        try:
            return fn(*args)
        finally:
            dt = time.process_time() - t0
            self.charged_s += dt
            self.spent[label] += dt
            await asyncio.sleep(dt)
