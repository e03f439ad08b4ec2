"""Progress of long work (`glasses flash`, `glasses ota send`): on a terminal a bar with
bytes, rate and time left; otherwise (a pipe, a log file, CI) a plain line at every
tenth of the way, with the same figures.

    with Transfer(console, "sending") as t:
        t.update(done, total)          # bytes so far, of total (None: not known yet)
        t.describe("verifying")        # what it is doing now (a line of its own off a
                                       # terminal; say=False: the next line's label)
"""
import time

PLAIN_STEP = 0.1  # off a terminal: a line at every tenth


class Transfer:
    def __init__(self, console, description, clock=time.monotonic):
        self.console = console
        self.description = description
        self.clock = clock
        self.bar = None
        self.job = None
        self.done = 0
        self.total = None
        self._t0 = None
        self._next = PLAIN_STEP

    def __enter__(self):
        if self.console.is_terminal:
            from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                                       TimeRemainingColumn, TransferSpeedColumn)
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                DownloadColumn(), TransferSpeedColumn(),
                                TimeRemainingColumn(), console=self.console,
                                transient=False, get_time=self.clock)
            self.bar.__enter__()
            self.job = self.bar.add_task(self.description, total=None)
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            return self.bar.__exit__(*exc)
        return False

    def update(self, done, total=None):
        if self._t0 is None:
            self._t0 = self.clock()
        self.done = max(0, done)
        if total is not None:
            self.total = total
        if self.bar is not None:
            self.bar.update(self.job, completed=self.done, total=self.total)
            return
        if self.total and self.done >= self._next * self.total:
            while self._next * self.total <= self.done:
                self._next += PLAIN_STEP
            self.console.print(self.line(), highlight=False)

    def advance(self, n):
        self.update(self.done + n)

    def describe(self, text, say=True):
        """What it is doing now: the bar's label on a terminal; otherwise a line of its
        own (say=False: the label of the next progress lines instead, for a label that
        changes often, such as the file being written)."""
        if self.bar is not None:
            self.bar.update(self.job, description=text)
        elif say:
            self.console.print(text, highlight=False)
        else:
            self.description = text

    def line(self):
        """'sending: 40% (41.0 of 102.4 kB, 12.3 kB/s, 5 s left)'."""
        dt = self.clock() - self._t0 if self._t0 is not None else 0.0
        rate = self.done / dt if dt > 0 else 0.0
        pct = 100.0 * self.done / self.total if self.total else 0.0
        left = ((self.total - self.done) / rate) if rate > 0 and self.total else None
        return "%s: %.0f%% (%.1f of %.1f kB, %.1f kB/s%s)" % (
            self.description, pct, self.done / 1e3, (self.total or 0) / 1e3, rate / 1e3,
            ", %.0f s left" % left if left is not None and self.done < self.total else "")
