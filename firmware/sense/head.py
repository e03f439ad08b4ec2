# Nod and shake from the gyro: the thresholds (HEAD) and the alternating-swing counter that
# runs once per gyro axis. Gestures (gestures.py) feeds it samples and decides, across the
# two axes, whether a nod or a shake happened.
#
# Per sample nothing is allocated: the state is small ints.
from firmware.runtime.clock import ticks_diff

# Head gestures from the gyro. A "swing" is one lobe of angular rate on one axis: it starts
# when |rate| rises above swing_dps and ends when it falls below release_dps (or flips
# sign). Nod = alternating swings on the pitch axis, shake = on the yaw axis.
HEAD = {
    "pitch_axis": 0,  # index of (x, y, z) carrying pitch rate (nod)
    "yaw_axis": 2,  # ... and yaw rate (shake)
    "swing_dps": 60,  # a swing starts above this rate
    "release_dps": 25,  # ... and ends below it
    "min_swing_ms": 60,  # shorter lobes are jolts (heel strikes, bumps)
    "max_swing_ms": 400,  # longer lobes are deliberate head turns, not oscillation
    "min_swing_mdeg": 4000,  # each swing turns the head at least 4 degrees
    "max_gap_ms": 250,  # from one swing's end to the next one's start
    "min_swings": 3,  # alternating swings needed (down-up-down)
    "window_ms": 1500,  # the whole gesture within this
    "dominance_pct": 200,  # weakest swing >= 2x the other axis's recent activity
    "envelope_ms": 400,  # decay time of that activity envelope
    "refractory_ms": 1000,  # after a head gesture, none for this long
    "max_dt_ms": 100,  # a longer gap between samples (lost samples) restarts detection
}


class Swings:
    """Alternating-swing counter for one gyro axis (all small ints)."""

    def __init__(self, cfg):
        self.swing = cfg["swing_dps"]
        self.release = cfg["release_dps"]
        self.min_ms = cfg["min_swing_ms"]
        self.max_ms = cfg["max_swing_ms"]
        self.min_mdeg = cfg["min_swing_mdeg"]
        self.max_gap = cfg["max_gap_ms"]
        self.window = cfg["window_ms"]
        self.tau = cfg["envelope_ms"]
        self.reset()
        self.env = 0  # decaying envelope of |rate|, dps

    def reset(self):
        self.sign = 0  # sign of the lobe in progress, 0 if none
        self.t0 = 0  # its start
        self.peak = 0
        self.mdeg = 0
        self.count = 0  # valid alternating swings in the current sequence
        self.last_sign = 0
        self.last_end = 0
        self.seq_t0 = 0
        self.weakest = 0  # smallest peak among the sequence's swings

    def update(self, r, t, dt):
        """Feed one rate sample (int dps) at t; returns True when a swing just ended and
        extended the sequence."""
        a = r if r >= 0 else -r
        env = self.env
        if dt > 0 and env:
            env -= (env * dt + self.tau - 1) // self.tau
            if env < 0:
                env = 0
        if a > env:
            env = a
        self.env = env
        s = self.sign
        grew = False
        if s != 0:
            if (s > 0 and r > self.release) or (s < 0 and r < -self.release):
                self.mdeg += a * dt
                if a > self.peak:
                    self.peak = a
                return False
            grew = self._end(t)
        if self.count and ticks_diff(t, self.last_end) > self.max_gap:
            self.count = 0
        if r > self.swing:
            self._start(1, a, t)
        elif r < -self.swing:
            self._start(-1, a, t)
        return grew

    def _start(self, sign, a, t):
        self.sign = sign
        self.t0 = t
        self.peak = a
        self.mdeg = 0

    def _end(self, t):
        s = self.sign
        self.sign = 0
        dur = ticks_diff(t, self.t0)
        if dur < self.min_ms or dur > self.max_ms or self.mdeg < self.min_mdeg:
            self.count = 0  # not an oscillation swing: the sequence is broken
            return False
        if (self.count and s != self.last_sign
                and ticks_diff(self.t0, self.last_end) <= self.max_gap
                and ticks_diff(t, self.seq_t0) <= self.window):
            self.count += 1
            if self.peak < self.weakest:
                self.weakest = self.peak
        else:
            self.count = 1
            self.seq_t0 = self.t0
            self.weakest = self.peak
        self.last_sign = s
        self.last_end = t
        return True
