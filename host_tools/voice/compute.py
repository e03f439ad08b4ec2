"""Where the phone's blocking speech work runs, and what it costs in simulated time.

Three modes:

- "thread" (real time: a real phone, `glasses sim` without --fast): the work runs in a
  worker thread, so the event loop (and the link) goes on meanwhile; it takes the time
  it takes.
- "model" (virtual time, the default there): a worker thread would not stop the virtual
  clock (the loop would jump ahead while the thread computes, and time the glasses' calls
  out), so the work runs inline, which freezes virtual time, and the caller then sleeps,
  in virtual time, what the work *would* cost on the phone, from a model (`cost(result)`
  given with each job: seconds from the audio's length, see host_tools/voice/engines.py).
  A run then repeats exactly from its seed, as every simulator run must.
- "measured" (virtual time, benches): the same, but the sleep is the CPU time the work
  really used here (`time.process_time()`: all threads of this process, so eSpeak's own
  thread counts and other processes on the machine do not). Results appear when a phone as
  fast as this machine would have had them; runs no longer repeat to the microsecond.
"""
import asyncio
import time
from collections import defaultdict

MODES = ("thread", "model", "measured")


class Compute:
    def __init__(self, mode=None):
        if mode is not None and mode not in MODES:
            raise ValueError("compute mode must be one of %s, not %r" % (MODES, mode))
        self._mode = mode  # None: "model" under the simulator's virtual time, else "thread"
        self.charged_s = 0.0
        self.spent = defaultdict(float)  # label -> charged seconds (inline modes)
        self.calls = defaultdict(int)

    @property
    def mode(self):
        if self._mode is None:  # the simulator's VirtualTimeLoop has a virtual clock
            virtual = hasattr(asyncio.get_running_loop(), "vclock")
            self._mode = "model" if virtual else "thread"
        return self._mode

    @property
    def charge(self):
        """The work runs inline and its cost is slept in virtual time."""
        return self.mode != "thread"

    async def run(self, label, fn, *args, cost=None):
        """fn(*args) in a thread, or inline and charged: cost(result) seconds ("model"),
        or the CPU time it took ("measured")."""
        self.calls[label] += 1
        mode = self.mode
        if mode == "thread":
            return await asyncio.to_thread(fn, *args)
        t0 = time.process_time()
        result = None
        try:
            result = fn(*args)
            return result
        finally:
            if mode == "measured":
                dt = time.process_time() - t0
            else:
                dt = cost(result) if cost is not None else 0.0
            self.charged_s += dt
            self.spent[label] += dt
            await asyncio.sleep(dt)
