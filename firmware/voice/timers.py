# The timers and reminders the wearer set by voice ("set a timer for one minute", "remind
# me to call Ana in ten minutes"): at most MAX_TIMERS, each a deadline tick, its length in
# seconds and, for a reminder, what to say. Sans-IO: the voice worker waits next_ms() and
# calls take_due() to learn which rang.
from micropython import const

MAX_TIMERS = const(8)
MAX_PLAIN = const(4)  # timers without a text (the rest of MAX_TIMERS are for reminders)
MAX_SECONDS = const(604800)  # a week


class Timers:
    def __init__(self, clock):
        self.clock = clock
        self.items = []  # [deadline tick, seconds, text or None]

    def __len__(self):
        return len(self.items)

    def add(self, seconds, text=None, left_s=None):
        """Start a timer (or a reminder, with text); False for a length out of range or
        when too many run. left_s: it rings in that many seconds (one restored from
        flash), else in `seconds`."""
        if not isinstance(seconds, int) or not 0 < seconds <= MAX_SECONDS or \
                len(self.items) >= MAX_TIMERS:
            return False
        if text is None and len(self.plain()) >= MAX_PLAIN:
            return False
        left = seconds if left_s is None else min(max(0, left_s), MAX_SECONDS)
        c = self.clock
        self.items.append([c.ticks_add(c.ticks_ms(), left * 1000), seconds, text])
        return True

    def export(self):
        """[[seconds left, length s, text or None], ...] of every timer and reminder."""
        c = self.clock
        now = c.ticks_ms()
        out = []
        for t in self.items:
            d = c.ticks_diff(t[0], now)
            out.append([(d + 999) // 1000 if d > 0 else 0, t[1], t[2]])
        return out

    def plain(self):
        return [t for t in self.items if t[2] is None]

    def cancel(self, seconds=None):
        """Cancel the timer of this length (the soonest of them), or every timer (not the
        reminders) with None; the number cancelled."""
        plain = self.plain()
        if seconds is None:
            self.items = [t for t in self.items if t[2] is not None]
            return len(plain)
        c = self.clock
        now = c.ticks_ms()
        best = None
        for t in plain:
            if t[1] == seconds and (best is None or
                                    c.ticks_diff(t[0], now) < c.ticks_diff(best[0], now)):
                best = t
        if best is None:
            return 0
        self.items.remove(best)
        return 1

    def left(self):
        """[[seconds left, length s], ...] of the timers (not the reminders)."""
        c = self.clock
        now = c.ticks_ms()
        out = []
        for t in self.plain():
            d = c.ticks_diff(t[0], now)
            out.append([(d + 999) // 1000 if d > 0 else 0, t[1]])
        return out

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
        """[(seconds, text or None)] of the timers that rang; they are removed."""
        c = self.clock
        now = c.ticks_ms()
        keep = []
        rang = []
        for t in self.items:
            if c.ticks_diff(t[0], now) > 0:
                keep.append(t)
            else:
                rang.append((t[1], t[2]))
        self.items = keep
        return rang


def done_text(seconds):
    """What the glasses say when a timer rings."""
    if seconds % 60 == 0:
        return "Your %d minute timer is done." % (seconds // 60)
    return "Your %d second timer is done." % seconds


def late_text(seconds, text, late_s):
    """What the glasses say for a timer or reminder that fell due while they were off."""
    m = late_s // 60
    late = "%d minutes late" % m if m < 120 else "%d hours late" % (m // 60)
    if text:
        return "Reminder, %s: %s" % (late if m else "a moment late", text)
    what = "%d minute" % (seconds // 60) if seconds % 60 == 0 else "%d second" % seconds
    return "Your %s timer finished while the glasses were off." % what
