"""Virtual Maxim MAX98357A I2S class-D amplifier and its speaker.

Bus side: `play(slot, samples, rate)` receives every frame the I2S line carries with its
frame slot (sim/audio.py); SD_MODE on a GPIO turns the amplifier on (high) or shuts it down
(low: frames are not heard, only counted).

High-level side: what was played, sample-accurately: `segments` (start time, frames),
`samples()` and a WAV recording (`record_to(path)`); gaps between segments are kept as
silence up to `max_gap_s` so the file sounds right without storing hours of nothing.
"""
import wave
from array import array

from sim.devices.base import Part

_MAX_SEGMENTS = 256
_MAX_KEPT = 16000 * 600  # at most 10 min of 16 kHz audio kept in memory


class MAX98357A(Part):
    kind = "max98357a"
    QUIESCENT_MA = 2.4  # enabled, no signal (datasheet typ., 3.7 V)
    PLAYING_MA = 15.0  # average extra for speech at moderate volume into 8 ohm

    @classmethod
    def wire(cls, world, name, spec, **options):
        part = cls(world, name, sd_mode=spec.get("sd_mode"), **options)
        world.attach_i2s(spec["sck"], spec["ws"], spec["sd"], part)
        return part

    def __init__(self, world, name, sd_mode=None, max_gap_s=0.5):
        super().__init__(world, name)
        self.sd_mode_gpio = sd_mode
        # SD_MODE: tied high when not on a GPIO; on a GPIO, its pull-down holds the amp
        # off until the firmware drives it
        self.enabled = sd_mode is None
        self.max_gap_s = max_gap_s
        self.segments = []
        self.frames_heard = 0
        self.frames_muted = 0
        self._kept = array("h")
        self._next_slot = None
        self._stream = None
        self._until_us = 0
        self._end_timer = None
        self.echo_to = None  # (mic part, gain q15, delay us): World.couple_audio()
        if sd_mode is not None:
            world.observe_pin(sd_mode, self._sd_mode)
        self._update_power()

    def _sd_mode(self, level):
        if bool(level) == self.enabled:
            return
        self.enabled = bool(level)
        self.note("amplifier %s" % ("on" if level else "shut down"))
        self._update_power()

    def playing(self):
        return self.enabled and self.world.now_us() < self._until_us

    def _update_power(self):
        ma = 0.0
        if self.enabled:
            ma = self.QUIESCENT_MA + (self.PLAYING_MA if self.playing() else 0.0)
        self.world.power.set_adder(self.name, ma)

    # ---- bus side -------------------------------------------------------------------------
    def i2s_open(self, stream):
        self._stream = stream
        self._next_slot = None

    def i2s_close(self, stream):
        self._stream = None

    def play(self, slot, samples, rate):
        if not self.enabled:
            self.frames_muted += len(samples)
            return
        stream_t = self._stream.t0 if self._stream is not None else 0
        t_us = stream_t + slot * 1000000 // rate
        if self._next_slot is None or slot != self._next_slot:
            if self._next_slot is not None and len(self._kept) < _MAX_KEPT:
                gap = min(slot - self._next_slot, int(self.max_gap_s * rate))
                self._kept.extend(array("h", bytes(2 * max(0, gap))))
            self.segments.append([t_us, 0, rate])
            self.segments = self.segments[-_MAX_SEGMENTS:]
        self.segments[-1][1] += len(samples)
        self._next_slot = slot + len(samples)
        self.frames_heard += len(samples)
        if self.echo_to is not None:
            mic, gain, delay_us = self.echo_to
            mic.hear_speaker(t_us + delay_us, array("h", (v * gain >> 15 for v in samples)),
                             rate)
        if len(self._kept) < _MAX_KEPT:
            self._kept.extend(samples)
        was = self.playing()
        self._until_us = stream_t + self._next_slot * 1000000 // rate
        if not was:
            self._update_power()
        if self._end_timer is not None:
            self._end_timer.cancel()
        self._end_timer = self.world.call_at_us(self._until_us, self._ended)

    def _ended(self):
        self._end_timer = None
        self._update_power()

    # ---- high-level side ------------------------------------------------------------------
    def samples(self):
        return array("h", self._kept)

    def record_to(self, path, rate=None):
        """Write what was heard so far to a 16-bit mono WAV file."""
        rate = rate or (self.segments[-1][2] if self.segments else 16000)
        with wave.open(path, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(self._kept.tobytes())
        return path

    def describe(self):
        if not self.enabled:
            return "shut down"
        return "playing" if self.playing() else "on, silent"
