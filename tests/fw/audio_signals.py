# Deterministic test signals for the audio tests, generated one 20 ms frame at a time (a
# 30 s signal never has to fit in a MicroPython heap). Small-int math only.
import array

FRAME = 320
_SIN = None


def _sine_table():
    """1024-entry sine (Bhaskara I's approximation, small ints only)."""
    global _SIN
    if _SIN is None:
        t = array.array("h", bytes(2048))
        for i in range(512):
            x = i * (512 - i)
            v = ((16 * x) >> 4 << 12) // ((5 * 512 * 512 - 4 * x) >> 4) * 8
            t[i] = v if v < 32767 else 32767
            t[i + 512] = -t[i]
        _SIN = t
    return _SIN


def frame_buf():
    return array.array("h", bytes(2 * FRAME))


class Rng:
    """xorshift16: the same numbers under CPython and MicroPython, in small ints (no
    allocation per number on MicroPython)."""

    def __init__(self, seed):
        self.s = (seed & 0xFFFF) or 1

    def next(self, n):
        s = self.s
        s ^= (s << 7) & 0xFFFF
        s ^= s >> 9
        s ^= (s << 8) & 0xFFFF
        self.s = s
        return s % n


def silence(out):
    for i in range(FRAME):
        out[i] = 0


def noise(out, rng, amp):
    """White noise, uniform in [-amp, amp] (mean |x| about amp/2)."""
    w = 2 * amp + 1
    for i in range(FRAME):
        out[i] = rng.next(w) - amp


class Speech:
    """Speech-like: syllables of 120-260 ms (a 110-240 Hz buzz with three harmonics plus
    noise, under a rise/fall envelope) separated by 40-120 ms dips; every few syllables a
    longer pause of `pause_ms` (0: never). `level` is the syllable peak amplitude."""

    def __init__(self, seed=1, level=8000, pause_ms=0, noise_amp=0):
        self.rng = Rng(seed)
        self.level = level
        self.pause_ms = pause_ms
        self.noise_amp = noise_amp
        self.t = 0  # sample within the current segment
        self.seg = 0  # samples in the current segment
        self.voiced = False
        self.count = 0
        self.ph = 0
        self.f0 = 150
        self._new_segment()

    def _new_segment(self):
        r = self.rng
        self.voiced = not self.voiced
        self.t = 0
        if self.voiced:
            self.seg = (120 + r.next(140)) * 16
            self.f0 = 110 + r.next(130)
            self.count += 1
        elif self.pause_ms and self.count % 4 == 0:
            self.seg = self.pause_ms * 16
        else:
            self.seg = (40 + r.next(80)) * 16

    def fill(self, out):
        tab = _sine_table()
        r = self.rng
        for i in range(FRAME):
            if self.t >= self.seg:
                self._new_segment()
            v = 0
            if self.voiced:
                half = self.seg >> 1
                env = self.t if self.t < half else self.seg - self.t  # triangle
                env = self.level * env // half
                ph = self.ph
                s = (tab[ph & 1023] + (tab[(2 * ph) & 1023] >> 1)
                     + (tab[(3 * ph) & 1023] >> 2)) >> 1
                v = (s * env >> 15) + ((r.next(2 * 256 + 1) - 256) * env >> 13)
                self.ph = (ph + (self.f0 * 1024 // 16000 or 1)) & 0xFFFFF
            if self.noise_amp:
                v += r.next(2 * self.noise_amp + 1) - self.noise_amp
            if v > 32767:
                v = 32767
            elif v < -32768:
                v = -32768
            out[i] = v
            self.t += 1


class Snr:
    """Signal-to-noise ratio of a decoded signal, accumulated in small ints (exact: each
    square is split into 15-bit halves) so MicroPython allocates per frame, not per
    sample."""

    def __init__(self):
        self.sig = 0.0
        self.err = 0.0

    def add(self, ref, got, n):
        sh = sl = eh = el = 0
        for i in range(n):
            a = ref[i]
            d = a - got[i]
            if a < -32767:
                a = -32767
            if d > 32767:
                d = 32767
            elif d < -32767:
                d = -32767
            x = a * a
            sh += x >> 15
            sl += x & 0x7FFF
            x = d * d
            eh += x >> 15
            el += x & 0x7FFF
        self.sig += sh * 32768.0 + sl
        self.err += eh * 32768.0 + el

    def db(self):
        import math
        if self.err == 0:
            return 200.0
        return 10 * math.log10(self.sig / self.err)


def snr_db(ref, got, n):
    s = Snr()
    s.add(ref, got, n)
    return s.db()
