"""Virtual capacitive touch electrode on an ESP32-S3 touch GPIO.

Bus side: `read_raw()` is what `machine.TouchPad.read()` returns now: on the ESP32-S3 the
raw count *rises* with a finger (on the original ESP32 it falls: `rises=False`). The idle
level and the finger's step differ per pad (seeded), with a little noise and a slow drift.

High-level side: `press()`, `release()`, `touch(seconds)`; `fail(on)`: the touch
channel errors (machine.TouchPad.read() raises ValueError("Touch pad error"), as the esp32
port does when the touch sensor driver reports a failure) until fail(False).
"""
from sim.devices.base import Part, noise


class TouchElectrode(Part):
    kind = "touchpad"

    @classmethod
    def wire(cls, world, name, spec, **options):
        part = cls(world, name, spec["pin"], label=spec.get("label", name),
                   rises=world.data.get("touch_rises", True), **options)
        world.attach_touch(spec["pin"], part)
        return part

    def __init__(self, world, name, gpio, label=None, rises=True, idle=None, step=None):
        super().__init__(world, name)
        self.gpio = gpio
        self.label = label or name
        self.rises = rises
        self.idle = idle if idle is not None else int(28000 + 3000 * noise(self.seed, 1))
        self.step = step if step is not None else int(self.idle * (0.22 + 0.05 * noise(
            self.seed, 2)))
        self.touched = False
        self._release = None
        self.reads = 0
        self.failed = False

    def fail(self, on=True):
        self.failed = bool(on)
        self.note("touch channel %s" % ("fails (fault injected)" if on else "works again"))

    def read_raw(self):
        if self.failed:
            raise ValueError("Touch pad error")
        self.reads += 1
        t = self.world.now_us()
        drift = 120 * noise(self.seed, 10 + t // 60000000)  # a slow per-minute wander
        v = self.idle + drift + 60 * noise(self.seed, 1000 + self.reads)
        if self.touched:
            v += self.step if self.rises else -self.step
        return max(0, int(v))

    def press(self):
        self.touched = True
        self.note("touched")
        w = self.world
        if w.deep_sleeping and w.deep_wake_touch and w.wake_from_deepsleep("touch"):
            self.note("the touch wakes the board from deep sleep")

    def release(self):
        self.touched = False
        self.note("released")

    def touch(self, seconds=0.2):
        self.press()
        if self._release is not None:
            self._release.cancel()
        self._release = self.world.call_later_us(int(seconds * 1e6), self._end)

    def _end(self):
        self._release = None
        self.release()

    def describe(self):
        return "touched" if self.touched else ""
