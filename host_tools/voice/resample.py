"""Polyphase resampling in pure Python (no numpy): a Blackman-windowed sinc low-pass at
0.9 x the lower Nyquist frequency, split into L phases of `taps` coefficients each.
Streaming: feed blocks, get blocks; the state carries across calls."""
import array
import math
from math import gcd
from operator import mul


def _design(up, down, taps, cutoff):
    n = up * taps
    fc = cutoff * 0.5 / max(up, down)  # cycles per sample at the upsampled rate
    mid = (n - 1) / 2
    h = []
    for i in range(n):
        x = i - mid
        s = 2 * fc if x == 0 else math.sin(2 * math.pi * fc * x) / (math.pi * x)
        w = (0.42 - 0.5 * math.cos(2 * math.pi * i / (n - 1))
             + 0.08 * math.cos(4 * math.pi * i / (n - 1)))
        h.append(s * w * up)
    # phase p, tap k multiplies input x[i - k]; stored reversed to pair with a slice
    return [list(reversed(h[p::up])) for p in range(up)]


class Resampler:
    def __init__(self, rate_in, rate_out, taps=24, cutoff=0.9):
        if rate_in <= 0 or rate_out <= 0:
            raise ValueError("sample rates must be positive")
        g = gcd(rate_in, rate_out)
        self.up = rate_out // g
        self.down = rate_in // g
        self.taps = taps
        self._phases = _design(self.up, self.down, taps, cutoff)
        self._buf = [0.0] * taps  # the last `taps` inputs (history) + new ones
        self._base = -taps  # absolute index of _buf[0]
        self._m = 0  # next output sample index

    def process(self, samples):
        """Feed int16 samples (any iterable); returns the int16 outputs now available."""
        buf = self._buf
        buf.extend(samples)
        out = array.array("h")
        up, down, k = self.up, self.down, self.taps
        phases = self._phases
        end = self._base + len(buf)  # inputs known: [base, end)
        m = self._m
        base = self._base
        while True:
            t = m * down
            i = t // up  # newest input this output needs
            if i >= end:
                break
            j = i - base
            y = sum(map(mul, phases[t - i * up], buf[j - k + 1:j + 1]))
            out.append(32767 if y > 32767 else -32768 if y < -32768 else int(round(y)))
            m += 1
        self._m = m
        drop = len(buf) - k
        if drop > 0:
            del buf[:drop]
            self._base += drop
        return out

