# A stand-in for micropython-camera-API's `camera` module (a C module: below the HAL line)
# for the firmware tests under CPython and MicroPython: the calls the driver makes, with
# the module's behaviour (a probe at construction, capture() a memoryview or None,
# OSError(ENOENT) when not initialised) and knobs for faults.
import sys


def jpeg(n, seed=1):
    """A fake but well-framed JPEG of n bytes (SOI ... EOI)."""
    body = bytearray(n)
    body[0], body[1] = 0xFF, 0xD8
    x = seed & 0xFFFF
    for i in range(2, n - 2):
        x = (x * 75 + 74) % 65537  # small ints only (no long ints on a 32-bit build)
        body[i] = x & 0xFF
    body[n - 2], body[n - 1] = 0xFF, 0xD9
    return body


class PixelFormat:
    JPEG = 4


class GrabMode:
    LATEST = 1


class Camera:
    last = None  # the latest instance (the module's singleton)

    def __init__(self, **kw):
        self.kw = kw
        self.on = False
        self.inits = 0
        self.captures = 0
        self.frame_bytes = 16000
        self.answers = True  # False: the sensor does not answer (init raises)
        self.stall = 0  # the next n inits give no frame
        self.cut = 0  # the next n frames are cut short
        self.led_during = []  # the capture LED's state at each capture (the tests' hook)
        self.led = None
        self._stalled = False
        self.buf = None
        if not self.answers:
            raise OSError(-261, "ESP_ERR_NOT_FOUND")
        Camera.last = self

    def init(self):
        if not self.answers:
            raise OSError(-261, "ESP_ERR_NOT_FOUND")
        self.on = True
        self.inits += 1
        self._stalled = self.stall > 0
        if self._stalled:
            self.stall -= 1

    def deinit(self):
        self.on = False
        self.buf = None

    def frame_available(self):
        if not self.on:
            raise OSError(2)
        return not self._stalled

    def capture(self):
        if not self.on:
            raise OSError(2)
        if self._stalled:
            return None
        self.captures += 1
        if self.led is not None:
            self.led_during.append(self.led.is_on())
        data = jpeg(self.frame_bytes, self.captures)
        if self.cut:
            self.cut -= 1
            data = data[:len(data) // 2]
        self.buf = data
        return memoryview(data)

    def free_buffer(self):
        self.buf = None


def make(spec, i2c=None):
    """The driver (firmware.drivers.camera.Camera) on this module: `import camera` finds
    it while the driver is built, then whatever was there before is back (under pytest
    the simulator's mirror)."""
    from firmware.drivers.camera import Camera as Driver
    old = sys.modules.get("camera")
    sys.modules["camera"] = sys.modules[__name__]
    try:
        return Driver(spec, i2c)
    finally:
        if old is None:
            del sys.modules["camera"]
        else:
            sys.modules["camera"] = old
