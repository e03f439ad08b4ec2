"""Mirror of micropython-camera-API's `camera` module (a user C module on esp32-camera,
github.com/cnadler86/micropython-camera-API v0.6: src/modcamera_api.c, src/modcamera.c),
acting on the active simulated world's camera part (sim/devices/ov2640.py).

As the module does: Camera(**kw) is a singleton (a new one deinitialises the old),
checks its arguments (ValueError / TypeError with the module's messages), initialises the
sensor, which must answer on SCCB with the DVP pins it is wired to (else OSError
ESP_ERR_NOT_FOUND, as esp_camera_init's probe), captures a first frame (OSError "Failed to
capture initial frame..." if none) and, with init=False, deinitialises again. capture()
gives a memoryview on the frame buffer or None; on a deinitialised camera OSError(ENOENT).
Where the C module blocks (init, capture waiting for a frame), the mirror does not: the
constructor's first frame is the sensor's word that it would give one, a frame is there
once the sensor has one (frame_available(): its settle time after init, then its frame
rate), and capture() without one returns None at once, not after esp32-camera's timeout.
"""
import errno

from sim.mirror._machine_i2c import I2C
from sim.mirror._machine_pin import _w


class PixelFormat:
    RGB565 = 0
    YUV422 = 1
    YUV420 = 2
    GRAYSCALE = 3
    JPEG = 4
    RGB888 = 5
    RAW = 6
    RGB444 = 7
    RGB555 = 8


class GrabMode:
    WHEN_EMPTY = 0
    LATEST = 1


class FrameSize:
    R96X96 = 0
    QQVGA = 1
    QVGA = 6
    CIF = 8
    HVGA = 9
    VGA = 10
    SVGA = 11
    XGA = 12
    HD = 13
    SXGA = 14
    UXGA = 15


_PIXELS = {1: (160, 120), 6: (320, 240), 8: (400, 296), 9: (480, 320), 10: (640, 480),
           11: (800, 600), 12: (1024, 768), 13: (1280, 720), 14: (1280, 1024),
           15: (1600, 1200)}
_ESP_ERR_NOT_FOUND = 0x105
_singleton = [None]


def Version():
    return "0.6.0 (simulated)"


def _not_found():
    return OSError(-_ESP_ERR_NOT_FOUND, "ESP_ERR_NOT_FOUND")


class Camera:
    def __init__(self, *, data_pins=None, pclk_pin=-1, vsync_pin=-1, href_pin=-1, sda_pin=-1,
                 scl_pin=-1, xclk_pin=-1, i2c=None, xclk_freq=20000000, powerdown_pin=-1,
                 reset_pin=-1, pixel_format=PixelFormat.RGB565, frame_size=FrameSize.QVGA,
                 jpeg_quality=85, fb_count=1, grab_mode=GrabMode.WHEN_EMPTY, init=True):
        if not isinstance(data_pins, (list, bytearray)):
            raise TypeError("data_pins must be a list or bytearray")
        if len(data_pins) != 8:
            raise ValueError("data_pins must have 8 elements")
        if i2c is not None:
            if not isinstance(i2c, I2C):
                raise TypeError("i2c must be a machine.I2C object")
            sda_pin, scl_pin = i2c._sda, i2c._scl
        elif sda_pin == -1 or scl_pin == -1:
            raise ValueError("Either i2c object or sda_pin/scl_pin must be specified")
        if xclk_freq < 1000:
            xclk_freq *= 1000000
        if not 0 <= jpeg_quality <= 100:
            raise ValueError("jpeg quality must be in range 0-100")
        if xclk_freq > 40000000:
            raise ValueError("xclk frequency cannot be grather than 40MHz")
        if pixel_format > PixelFormat.RGB555:
            raise ValueError("Invalid pixel_format")
        if grab_mode not in (GrabMode.WHEN_EMPTY, GrabMode.LATEST):
            raise ValueError("Invalid grab_mode")
        if pixel_format != PixelFormat.JPEG:
            raise ValueError("the simulated OV2640 gives JPEG frames only")
        if frame_size not in _PIXELS:
            raise ValueError("Invalid setting for frame_size")
        old = _singleton[0]
        if old is not None:
            old.deinit()
        self._world = _w()
        self._pins = {"xclk": xclk_pin, "pclk": pclk_pin, "vsync": vsync_pin,
                      "href": href_pin, "data": tuple(data_pins)}
        self._bus = (scl_pin, sda_pin)
        self._frame = frame_size
        self._quality = jpeg_quality
        self._part = None
        self._buf = None
        self.initialized = False
        _singleton[0] = self
        self.init()
        if not self._part.can_frame():  # the first frame (the C module waits for it)
            self.deinit()
            raise OSError("Failed to capture initial frame. Construct a new object with "
                          "appropriate configuration.")
        if not init:
            self.deinit()
        else:
            self.free_buffer()

    def _probe(self):
        """The camera part on these SCCB wires and DVP pins, answering its PID."""
        wires = self._world.wires(*self._bus)
        part = wires.parts.get(0x30) if wires is not None else None
        if part is None or not part.present or getattr(part, "pins", None) != self._pins:
            return None
        part.i2c_write(bytes((0xFF, 1)))
        part.i2c_write(bytes((0x0A,)))
        pid = part.i2c_read(1)[0]
        part.i2c_write(bytes((0x0B,)))
        pid = (pid << 8) | part.i2c_read(1)[0]
        return part if pid == 0x2642 else None

    def init(self):
        if self.initialized:
            return
        part = self._probe()
        if part is None:
            raise _not_found()
        self._part = part
        part.clock(True, frame_size=_PIXELS[self._frame], quality=self._quality)
        self.initialized = True

    def deinit(self):
        if self.initialized:
            self._buf = None
            self._part.clock(False)
            self.initialized = False

    def _check(self):
        if not self.initialized:
            raise OSError(errno.ENOENT)

    def capture(self):
        self._check()
        self._buf = None
        data = self._part.take_frame()
        if data is None:
            return None
        self._buf = bytearray(data)
        return memoryview(self._buf)

    def frame_available(self):
        self._check()
        return self._part.frame_ready()

    def free_buffer(self):
        self._buf = None

    @property
    def sensor_name(self):
        self._check()
        return "OV2640"

    @property
    def pixel_width(self):
        return _PIXELS[self._frame][0]

    @property
    def pixel_height(self):
        return _PIXELS[self._frame][1]
