# Synthetic gyro traces for the gesture tests (runs under CPython and MicroPython).
#
# A trace is a list of components summed per axis at 100 Hz (a typical IMU gesture rate):
#   ("sine", axis, amp_dps, freq_mhz, start_ms, dur_ms, phase_256)
#   ("lobe", axis, amp_dps, 0, start_ms, dur_ms, 0)    one half-sine lobe (amp may be < 0)
#   ("spike", axis, amp_dps, 0, start_ms, dur_ms, 0)   a rectangular jolt
# plus deterministic noise of +/- noise_dps. Everything is small-int arithmetic over a sine
# table, so feeding a trace allocates nothing (the heap_lock test relies on it).
#
# What the traces model (head frame: x = pitch rate, y = roll rate, z = yaw rate):
# - walking: head pitch bob at the step rate (~1.9 Hz, 15-25 dps) and its harmonic, yaw and
#   roll sway at the stride rate (~0.95 Hz, 8-15 dps), and a short jolt at every heel strike
#   (20-30 ms, up to 120 dps): gait studies put head angular rates while walking well under
#   60 dps apart from those impacts.
# - a deliberate nod: 2-3 Hz pitch oscillation of 100-150 dps (10-15 degrees each way).
# - a head shake: 3-4 Hz yaw oscillation of 150-250 dps.
# - a head turn: one yaw lobe of 0.5-1 s, 100-200 dps (40-90 degrees).
import math

from firmware.runtime.clock import ticks_add

_SIN = [int(round(10000 * math.sin(2 * math.pi * i / 256))) for i in range(256)]


def _value(c, rel):
    kind, axis, amp, f_mhz, start, dur, ph = c
    d = rel - start
    if d < 0 or d >= dur:
        return 0
    if kind == "spike":
        return amp
    if kind == "lobe":  # half a sine period over dur
        return amp * _SIN[(d * 128) // dur] // 10000
    cyc = ((d * f_mhz) % 1000000) * 256 // 1000000
    return amp * _SIN[(cyc + ph) & 255] // 10000


class Trace:
    def __init__(self, comps, dur_ms, noise_dps=4, seed=7, dt_ms=10):
        self.comps = comps
        self.dur = dur_ms
        self.noise = noise_dps
        self.seed = seed
        self.dt = dt_ms
        self.out = [0, 0, 0]

    def sample(self, rel, rnd):
        out = self.out
        out[0] = out[1] = out[2] = 0
        for c in self.comps:
            v = _value(c, rel)
            if v:
                out[c[1]] += v
        n = self.noise
        if n:
            for a in range(3):
                rnd = (rnd * 75 + 74) % 65537
                out[a] += rnd % (2 * n + 1) - n
        return rnd

    def feed(self, on_gyro, t0, every=0):
        """Call on_gyro(x, y, z, t) for the whole trace starting at tick t0. As a generator
        (every > 0) it yields every `every` samples so MicroPython's GC can run."""
        rnd = self.seed
        rel = 0
        k = 0
        out = self.out
        while rel < self.dur:
            rnd = self.sample(rel, rnd)
            on_gyro(out[0], out[1], out[2], ticks_add(t0, rel))
            rel += self.dt
            k += 1
            if every and k % every == 0:
                yield rel
        return


def run(trace, on_gyro, t0):
    """Feed a whole trace without yielding."""
    for _ in trace.feed(on_gyro, t0, 0):
        pass


def walking(dur_ms, pitch_dps=20, jolt_dps=110, start=0, seed=3):
    comps = [
        ("sine", 0, pitch_dps, 1900, start, dur_ms, 0),
        ("sine", 0, pitch_dps // 3, 3800, start, dur_ms, 40),
        ("sine", 2, 12, 950, start, dur_ms, 64),
        ("sine", 1, 10, 950, start, dur_ms, 0),
    ]
    step = 526  # ms per step at 1.9 Hz
    t = start + 100
    while t + 60 < start + dur_ms:
        comps.append(("spike", 0, jolt_dps, 0, t, 20, 0))  # heel strike and rebound
        comps.append(("spike", 0, -jolt_dps * 2 // 3, 0, t + 20, 20, 0))
        t += step
    return comps


def oscillation(axis, amp_dps, freq_mhz, swings, start, other_axis=None, other_dps=0):
    """`swings` half-periods of a sine on one axis (a nod on 0, a shake on 2), starting
    downwards, with optional cross-talk on another axis."""
    dur = swings * 500000 // freq_mhz
    comps = [("sine", axis, amp_dps, freq_mhz, start, dur, 0)]
    if other_axis is not None:
        comps.append(("sine", other_axis, other_dps, freq_mhz, start, dur, 64))
    return comps
