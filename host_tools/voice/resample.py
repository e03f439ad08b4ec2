"""Polyphase resampling with numpy (Piper and eSpeak NG speak at 22,050 Hz; the glasses
and the recogniser take 16 kHz): a Blackman-windowed sinc low-pass at 0.9 x the lower
Nyquist frequency, split into L phases of `taps` coefficients each. Streaming: feed
blocks, get blocks; the state carries across calls. ~1 ms per second of audio."""
import array
from math import gcd

import numpy as np


def _design(up, down, taps, cutoff):
    n = up * taps
    fc = cutoff * 0.5 / max(up, down)  # cycles per sample at the upsampled rate
    x = np.arange(n) - (n - 1) / 2
    h = 2 * fc * np.sinc(2 * fc * x) * np.blackman(n) * up
    # phase p, tap k multiplies input x[i - k]: row p holds h[p::up]
    return np.stack([h[p::up] for p in range(up)])


class Resampler:
    def __init__(self, rate_in, rate_out, taps=24, cutoff=0.9):
        if rate_in <= 0 or rate_out <= 0:
            raise ValueError("sample rates must be positive")
        g = gcd(rate_in, rate_out)
        self.up = rate_out // g
        self.down = rate_in // g
        self.taps = taps
        self._phases = _design(self.up, self.down, taps, cutoff)
        self._hist = np.zeros(taps - 1)  # the last inputs before the current block
        self._base = -(taps - 1)  # absolute index of _hist[0]
        self._m = 0  # next output sample index

    def process(self, samples):
        """Feed int16 samples (bytes, array or sequence); returns the int16 outputs now
        available (array('h'))."""
        if isinstance(samples, (bytes, bytearray, memoryview)):
            x = np.frombuffer(bytes(samples), dtype="<i2").astype(np.float64)
        else:
            x = np.asarray(samples, dtype=np.float64)
        buf = np.concatenate([self._hist, x])
        end = self._base + len(buf)  # inputs known: [base, end)
        up, down, k = self.up, self.down, self.taps
        # outputs m with newest input (m * down) // up < end
        last = (end * up - 1) // down
        m = np.arange(self._m, last + 1)
        out = array.array("h")
        if len(m):
            t = m * down
            i = t // up
            ph = t - i * up
            j = (i - self._base)[:, None] - np.arange(k)[None, :]  # x[i - k] positions
            y = np.einsum("ij,ij->i", self._phases[ph], buf[j])
            y = np.clip(np.rint(y), -32768, 32767).astype("<i2")
            out.frombytes(y.tobytes())
            self._m = int(last + 1)
        keep = min(len(buf), k - 1)
        self._hist = buf[len(buf) - keep:]
        self._base = end - keep
        return out
