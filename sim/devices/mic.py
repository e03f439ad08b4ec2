"""Virtual I2S MEMS microphone (TDK ICS-43434 / InvenSense INMP441 class) on an I2S line.

Bus side: `frames(stream, start, n)` gives the PCM the mic puts on the wire for frames
start..start+n of an open stream (sim/audio.py), sample-accurately: frame k of a stream
that began at t0 is world sample s0 + k, s0 = t0 * rate. Deterministic whatever the read
pattern.

High-level side (room audio): a quiet-room noise floor, `play(samples, rate)` /
`play_wav(path)` (mixed in from now on; mono 16-bit, resampled to the I2S rate if needed),
`play_tone(hz, seconds)`, or a live `source(start_sample, n, rate) -> array('h')`.
Echo: `hear_speaker(t_us, samples, rate)` adds what the glasses' own speaker plays (the
speaker calls it once World.couple_audio() has coupled them: on real glasses the
speaker sits a few cm from the microphone), kept for the last _ECHO_S seconds.
"""
import math
import wave
from array import array

from sim.devices.base import Part, noise

_NOISE_LEN = 4093  # a prime, so the table does not repeat in step with frame sizes
_MAX_CLIPS = 16
_ECHO_S = 4  # echo segments kept: the I2S is read within this of being played


def _resample(samples, src_rate, dst_rate):
    if src_rate == dst_rate:
        return array("h", samples)
    n = int(len(samples) * dst_rate / src_rate)
    out = array("h", bytes(2 * n))
    step = src_rate / dst_rate
    last = len(samples) - 1
    for i in range(n):
        x = i * step
        j = int(x)
        f = x - j
        a = samples[j]
        b = samples[min(j + 1, last)]
        out[i] = int(a + (b - a) * f)
    return out


def read_wav(path):
    """(mono int16 samples, rate) of a 16-bit PCM WAV file (stereo is mixed down)."""
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError("%s: only 16-bit PCM WAV is supported (got %d-bit)"
                             % (path, 8 * w.getsampwidth()))
        ch, rate = w.getnchannels(), w.getframerate()
        data = array("h")
        data.frombytes(w.readframes(w.getnframes()))
    if ch > 1:
        data = array("h", (sum(data[i:i + ch]) // ch for i in range(0, len(data), ch)))
    return data, rate


class I2SMic(Part):
    kind = "ics43434"
    ACTIVE_MA = 0.49  # ICS-43434 supply current, normal mode (datasheet typ.)

    @classmethod
    def wire(cls, world, name, spec, **options):
        part = cls(world, name, **options)
        world.attach_i2s(spec["sck"], spec["ws"], spec["sd"], part)
        return part

    def __init__(self, world, name, noise_rms=16.0):
        super().__init__(world, name)
        amp = noise_rms * math.sqrt(3)
        self._noise = array("h", (int(amp * noise(self.seed, i)) for i in range(_NOISE_LEN)))
        self.clips = []  # [start_sample_at_rate, samples_at_rate, rate, label]
        self._pending = []  # (t_us, samples, src_rate, label): placed once a rate is known
        self.source = None
        self.streams = 0
        self.rate = None
        self.echo = []  # [start sample at the rate, samples, rate]: the speaker, heard
        self.echo_samples = 0

    # ---- bus side -------------------------------------------------------------------------
    def i2s_open(self, stream):
        self.streams += 1
        self.rate = stream.rate
        self.world.power.set_adder(self.name, self.ACTIVE_MA)

    def i2s_close(self, stream):
        self.streams = max(0, self.streams - 1)
        if not self.streams:
            self.world.power.set_adder(self.name, 0)

    def _place(self, rate):
        for t_us, samples, src_rate, label in self._pending:
            self.clips.append([t_us * rate // 1000000, _resample(samples, src_rate, rate),
                               rate, label])
        self._pending = []
        self.clips = self.clips[-_MAX_CLIPS:]

    def frames(self, stream, start, n):
        rate = stream.rate
        if self._pending:
            self._place(rate)
        s0 = stream.t0 * rate // 1000000 + start
        if self.source is not None:
            out = array("h", self.source(s0, n, rate))
        else:
            k = s0 % _NOISE_LEN
            out = array("h")
            while len(out) < n:
                take = min(n - len(out), _NOISE_LEN - k)
                out.extend(self._noise[k:k + take])
                k = 0
        for c in self.clips + self.echo:
            cs, data, crate = c[0], c[1], c[2]
            if crate != rate:
                continue
            a = max(s0, cs)
            b = min(s0 + n, cs + len(data))
            for s in range(a, b):
                v = out[s - s0] + data[s - cs]
                out[s - s0] = 32767 if v > 32767 else (-32768 if v < -32768 else v)
        return out

    def hear_speaker(self, t_us, samples, rate):
        """The glasses' own speaker, already scaled by the coupling, from t_us on."""
        start = t_us * rate // 1000000
        last = self.echo[-1] if self.echo else None
        if last is not None and last[2] == rate and last[0] + len(last[1]) == start:
            last[1].extend(samples)
        else:
            self.echo.append([start, array("h", samples), rate])
        self.echo_samples += len(samples)
        keep = start - _ECHO_S * rate
        while self.echo and self.echo[0][0] + len(self.echo[0][1]) < keep:
            self.echo.pop(0)
        e = self.echo[0]
        if e[0] < keep:  # one long segment: trim its head
            del e[1][:keep - e[0]]
            e[0] = keep

    # ---- high-level side ------------------------------------------------------------------
    def play(self, samples, rate, label="clip"):
        """Room audio from now on: mono int16 samples at `rate`."""
        self._pending.append((self.world.now_us(), array("h", samples), rate, label))
        if self.rate:
            self._place(self.rate)
        self.note("hears %s (%.2f s)" % (label, len(samples) / rate))

    def play_wav(self, path):
        data, rate = read_wav(path)
        self.play(data, rate, label=path)

    def play_tone(self, hz=440.0, seconds=1.0, rate=16000, amplitude=8000):
        n = int(seconds * rate)
        self.play(array("h", (int(amplitude * math.sin(2 * math.pi * hz * i / rate))
                              for i in range(n))), rate, label="%g Hz tone" % hz)

    def hearing(self):
        t = self.world.now_us()
        for c in self.clips:
            if c[0] * 1000000 // c[2] <= t < (c[0] + len(c[1])) * 1000000 // c[2]:
                return c[3]
        for t_us, samples, rate, label in self._pending:
            if t_us <= t < t_us + len(samples) * 1000000 // rate:
                return label
        return None

    def describe(self):
        h = self.hearing()
        return ("streaming" if self.streams else "idle") + (", hears %s" % h if h else "")
