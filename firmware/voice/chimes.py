# Chimes synthesised on the glasses, no host round trip: small-int math on a
# 256-entry sine table (phase kept exactly in 1/16000 cycles), rendered 20 ms at a
# time straight into the caller's buffer.
#
# A chime is a few notes: (frequency Hz, duration ms, wave) with 4 ms attack and a 30 ms
# release (linear) so nothing clicks. render(chime, out, start, n) writes samples
# [start, start+n) of the chime into out[0:n] (zeros past its end) and returns how many
# of them belong to the chime: call it frame after frame with start += n.
import array

from micropython import const

RATE = const(16000)
START = const(0)
END = const(1)
ERROR = const(2)
NOTIFICATION = const(3)
LOW_BATTERY = const(4)
SHUTTER = const(5)
NAMES = ("start", "end", "error", "notification", "low_battery", "shutter")
# The names the notification and sense features ask for (firmware/notify/presentation.py
# CHIMES, firmware/sense/battery.py), by the chime each plays.
ALIASES = {"message": NOTIFICATION, "call": NOTIFICATION, "reminder": NOTIFICATION,
           "urgent": START, "confirm": END, "dismiss": END, "battery_low": LOW_BATTERY,
           "battery_critical": LOW_BATTERY, "pairing": START, "paired": END}

SINE = const(0)
SQUARE = const(1)
_ATTACK = const(64)  # samples (4 ms)
_RELEASE = const(480)  # samples (30 ms)
_AMP = const(9000)  # peak amplitude (about -11 dBFS)

# (hz, ms, wave), ... ; hz 0 is a rest
_CHIMES = (
    ((880, 70, SINE), (1320, 110, SINE)),  # start: rising fifth
    ((1320, 70, SINE), (880, 110, SINE)),  # end: falling fifth
    ((330, 120, SQUARE), (0, 60, SINE), (330, 180, SQUARE)),  # error: two low buzzes
    ((1047, 80, SINE), (1319, 80, SINE), (1568, 140, SINE)),  # notification: arpeggio
    ((784, 150, SINE), (0, 50, SINE), (523, 150, SINE), (0, 50, SINE), (392, 250, SINE)),
    ((2637, 25, SQUARE), (0, 40, SINE), (1760, 45, SQUARE)),  # shutter: a two-part click
)



def _sine_table():
    """256-entry sine, Bhaskara I's rational approximation in small ints (error < 0.2 %):
    no floats, so importing this module allocates only the 512-byte table."""
    t = array.array("h", bytes(512))
    for i in range(128):
        x = i * (128 - i)
        v = ((16 * x) << 12) // (81920 - 4 * x) * 8  # Q12 scaled to Q15
        if v > 32767:
            v = 32767
        t[i] = v
        t[i + 128] = -v
    return t


_TABLE = _sine_table()


def length(chime):
    """Samples in the chime."""
    n = 0
    for note in _CHIMES[_check(chime)]:
        n += note[1] * RATE // 1000
    return n


def _check(chime):
    if not 0 <= chime < len(_CHIMES):
        raise ValueError("unknown chime %r (0..%d: %s)" % (chime, len(_CHIMES) - 1,
                                                           ", ".join(NAMES)))
    return chime


def render(chime, out, start, n):
    """Samples [start, start+n) of the chime into out[0:n]; returns how many were chime
    (the rest are zeros). Allocates nothing."""
    if n > len(out):
        raise ValueError("render: %d samples do not fit a buffer of %d" % (n, len(out)))
    notes = _CHIMES[_check(chime)]
    tab = _TABLE
    o = 0
    t0 = 0  # first sample of the current note
    for note in notes:
        hz = note[0]
        ns = note[1] * RATE // 1000
        t1 = t0 + ns
        if start + o < t1 and o < n:
            k = start + o - t0  # position inside the note
            ph = (k * hz) % RATE  # phase in 1/RATE cycles: exact, resumable, small
            square = note[2] == SQUARE
            while k < ns and o < n:
                if hz:
                    env = _AMP
                    if k < _ATTACK:
                        env = _AMP * k // _ATTACK
                    elif ns - k < _RELEASE:
                        env = _AMP * (ns - k) // _RELEASE
                    s = tab[(ph << 8) // RATE]
                    if square:
                        s = 32767 if s >= 0 else -32767
                    out[o] = (s * env) >> 15
                    ph += hz
                    if ph >= RATE:
                        ph -= RATE
                else:
                    out[o] = 0
                k += 1
                o += 1
        t0 = t1
    m = o
    while o < n:
        out[o] = 0
        o += 1
    return m
