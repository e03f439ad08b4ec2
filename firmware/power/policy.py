# When to turn off, and whether to come back: sans-IO decisions on the fuel gauge's
# readings (soc %, volts, charging).
#
#   End.feed(pct, volts, charging) -> True once the cell is at the cut-off: at or below
#       cutoff_pct or cutoff_v, not charging, for `confirm` readings in a row (one low
#       reading under a load peak does not turn the glasses off)
#   resume_ok(pct, volts, charging) -> may a wake from the battery's deep sleep boot on?
#       Charging, or back above resume_pct and resume_v (the hysteresis: a cell that
#       recovers a little at rest does not boot, run a minute and turn off again)
#
# A LiPo kept near 3.0 V ages fast, and below it the board browns out (a write cut, no
# goodbye): the cut-off leaves the reserve for days of deep sleep.
from micropython import const

POWER = {
    "cutoff_pct": 2,
    "cutoff_v": 3.2,  # under load
    "resume_pct": 5,
    "resume_v": 3.45,
    "confirm": 2,  # readings in a row at the cut-off
    "recheck_s": 1800,  # asleep for the battery: wake this often to look at the charge
    "say_ms": 6000,  # at most this long for the goodbye to be spoken
    "tell_ms": 3000,  # ... and for the phone to acknowledge it
}

_PCT_MAX = const(100)


def check_config(c):
    for k in POWER:
        if k not in c:
            raise ValueError("power config lacks %s" % k)
    if not 0 <= c["cutoff_pct"] < c["resume_pct"] <= _PCT_MAX:
        raise ValueError("power: needs 0 <= cutoff_pct < resume_pct <= 100")
    if not c["cutoff_v"] < c["resume_v"]:
        raise ValueError("power: needs cutoff_v < resume_v")
    if c["confirm"] < 1 or c["recheck_s"] < 1:
        raise ValueError("power: confirm and recheck_s must be >= 1")
    return c


class End:
    def __init__(self, config=None):
        c = check_config(dict(POWER, **(config or {})))
        self.c = c
        self.low = 0  # readings in a row at the cut-off
        self.due = False
        self.last = None  # (pct, volts) of the last reading

    def feed(self, pct, volts, charging):
        self.last = (pct, volts)
        c = self.c
        if charging or (pct > c["cutoff_pct"] and volts > c["cutoff_v"]):
            self.low = 0
            return False
        self.low += 1
        if self.low >= c["confirm"] and not self.due:
            self.due = True
            return True
        return False

    def resume_ok(self, pct, volts, charging):
        c = self.c
        return bool(charging) or (pct >= c["resume_pct"] and volts >= c["resume_v"])
