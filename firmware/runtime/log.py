# A bounded ring-buffer logger. Logging stores references only (a constant message and up
# to two arguments), so it allocates nothing and is safe on the scheduler's hot path.
# Formatting happens when someone reads the log (the terminal view, the link's log channel).
#
# A message is a sentence: its arguments go where it says, with their units
#     log.info("%s recovered after %s", "imu", seconds(ms))    # imu recovered after 7.8 s
#     log.warn("%s ran %d us in one slice", name, us)
# (a message without a % directive gets its arguments after it, as before).
from micropython import const

DEBUG = const(10)
INFO = const(20)
WARN = const(30)
ERROR = const(40)

_NAMES = {DEBUG: "DEBUG", INFO: "INFO", WARN: "WARN", ERROR: "ERROR"}
_SEQ_MASK = const((1 << 30) - 1)


class Log:
    def __init__(self, size=64, level=INFO, clock=None, sink=None):
        if size < 1:
            raise ValueError("log size must be >= 1")
        self.size = size
        self.level = level
        self.clock = clock
        self.sink = sink  # called with (tick, level, msg, a, b) for each record kept
        self._tick = [0] * size
        self._lvl = bytearray(size)
        self._msg = [None] * size
        self._a = [None] * size
        self._b = [None] * size
        self._head = 0  # slot of the next record
        self.seq = 0  # sequence number of the next record (wraps at 2**30)
        self.count = 0  # records held (<= size)
        self.overwritten = 0

    def log(self, level, msg, a=None, b=None):
        if level < self.level:
            return
        i = self._head
        self._head = i + 1 if i + 1 < self.size else 0
        tick = self.clock.ticks_ms() if self.clock is not None else 0
        self._tick[i] = tick
        self._lvl[i] = level
        self._msg[i] = msg
        self._a[i] = a
        self._b[i] = b
        self.seq = (self.seq + 1) & _SEQ_MASK
        if self.count < self.size:
            self.count += 1
        else:
            self.overwritten += 1
        if self.sink is not None:
            self.sink(tick, level, msg, a, b)

    def debug(self, msg, a=None, b=None):
        self.log(DEBUG, msg, a, b)

    def info(self, msg, a=None, b=None):
        self.log(INFO, msg, a, b)

    def warn(self, msg, a=None, b=None):
        self.log(WARN, msg, a, b)

    def error(self, msg, a=None, b=None):
        self.log(ERROR, msg, a, b)

    def records(self, since=None):
        """Yield (seq, tick, level, msg, a, b) oldest first; only those after `since`."""
        n = self.count
        first = (self.seq - n) & _SEQ_MASK
        slot = (self._head - n) % self.size
        for k in range(n):
            s = (first + k) & _SEQ_MASK
            i = (slot + k) % self.size
            # keep only records newer than `since` (wraparound-safe comparison)
            if since is not None and ((s - since - 1) & _SEQ_MASK) >= (1 << 29):
                continue
            yield s, self._tick[i], self._lvl[i], self._msg[i], self._a[i], self._b[i]

    def clear(self):
        self.count = 0
        for i in range(self.size):
            self._msg[i] = self._a[i] = self._b[i] = None


def seconds(ms):
    """A duration for a message: '850 ms', '7.8 s', '12 min' (it allocates: not for the
    hot path; pass the int there, with %d ms in the message)."""
    if ms < 1000:
        return "%d ms" % ms
    if ms < 120000:
        return "%.1f s" % (ms / 1000)
    return "%d min" % (ms // 60000)


def text_of(msg, a=None, b=None):
    """The record's text: the message with its arguments where its % directives say."""
    if not isinstance(msg, str):
        return repr(msg)
    n = msg.count("%") - 2 * msg.count("%%")
    if n > 0:
        try:
            return msg % ((a, b)[:n] if n <= 2 else (a, b))
        except (TypeError, ValueError):
            pass  # a message that does not fit its arguments is still shown
    text = msg
    if a is not None:
        text += " " + str(a)
    if b is not None:
        text += " " + str(b)
    return text


def format_record(tick, level, msg, a=None, b=None):
    return "%8d %-5s %s" % (tick, _NAMES.get(level, str(level)), text_of(msg, a, b))
