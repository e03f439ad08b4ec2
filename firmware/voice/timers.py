# The timers the wearer set by voice ("set a timer for one minute"): at most MAX_TIMERS,
# each a deadline tick and its length in seconds. Sans-IO: the voice worker waits
# next_ms() and calls take_due() to learn which rang.
from micropython import const

MAX_TIMERS = const(4)
MAX_SECONDS = const(86400)


class Timers:
    def __init__(self, clock):
        self.clock = clock
        self.items = []  # [deadline tick, seconds]

    def __len__(self):
        return len(self.items)

    def add(self, seconds):
        """Start a timer; False for a length out of range or when MAX_TIMERS run."""
        if not isinstance(seconds, int) or not 0 < seconds <= MAX_SECONDS or \
                len(self.items) >= MAX_TIMERS:
            return False
        c = self.clock
        self.items.append([c.ticks_add(c.ticks_ms(), seconds * 1000), seconds])
        return True

    def next_ms(self):
        """ms until the next timer rings (0: due now), -1 with none."""
        if not self.items:
            return -1
        c = self.clock
        now = c.ticks_ms()
        best = -1
        for t in self.items:
            d = c.ticks_diff(t[0], now)
            d = d if d > 0 else 0
            if best < 0 or d < best:
                best = d
        return best

    def take_due(self):
        """The lengths (seconds) of the timers that rang; they are removed."""
        c = self.clock
        now = c.ticks_ms()
        keep = []
        rang = []
        for t in self.items:
            if c.ticks_diff(t[0], now) > 0:
                keep.append(t)
            else:
                rang.append(t[1])
        self.items = keep
        return rang


def done_text(seconds):
    """What the glasses say when a timer rings."""
    if seconds % 60 == 0:
        return "Your %d minute timer is done." % (seconds // 60)
    return "Your %d second timer is done." % seconds
