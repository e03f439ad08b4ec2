# micropython-camera-API's `camera` module (github.com/cnadler86/micropython-camera-API
# v0.6) cut to what firmware/drivers/camera.py uses, over the minute's world (world.py):
# the same names and behaviour as sim/mirror/camera.py, in plain MicroPython.
#
# Camera(**kw) probes the sensor over SCCB: the OV2640's PID (0x26, 0x42 at 0x0A / 0x0B)
# on the board's I2C bus at 0x30 (power_on() puts it there), else OSError
# ESP_ERR_NOT_FOUND; with init=False it deinitialises again after that probe. init()
# clocks it; a frame is there SETTLE_US later (frame_available()); capture() returns a
# memoryview on the frame buffer (None before a frame, OSError(ENOENT) deinitialised).
#
# What the GC heap pays. On the board esp32-camera allocates its frame buffer in PSRAM
# (heap_caps_malloc at esp_camera_init), outside MicroPython's GC heap, and capture()
# returns a memoryview object on it: the GC heap pays only that small object (and what
# the firmware copies out of it). Here the buffer has to live somewhere, so power_on()
# allocates it once, before the minute counts the firmware's heap (its base is taken
# after the stand-ins' setup): it is in the unix port's fixed heap (so that run is
# stricter than the board by the frame's size) but not in the firmware's measured peak.
# The frame is built in place (no temporary copies): SOI, a JFIF APP0 header, filler
# bytes that hold no 0xFF (no marker), EOI; its size is what an OV2640 gives for the
# frame size at the quality, about 0.8 bit a pixel at quality 80 (30,720 bytes for VGA).
import world

PIXELS = {1: (160, 120), 6: (320, 240), 8: (400, 296), 9: (480, 320), 10: (640, 480),
          11: (800, 600), 12: (1024, 768), 13: (1280, 720), 14: (1280, 1024),
          15: (1600, 1200)}
NAMES = {"QVGA": 6, "CIF": 8, "HVGA": 9, "VGA": 10, "SVGA": 11, "XGA": 12, "HD": 13,
         "SXGA": 14, "UXGA": 15}  # the board's "frame" (firmware/drivers/camera.py)
ADDR = 0x30
SETTLE_US = 300000  # the sensor's first frame after init (its settle time)
_ESP_ERR_NOT_FOUND = 0x105
_ENOENT = 2
_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
_fb = [None]  # the frame buffer ("PSRAM"): bytearray of the frame's size
_singleton = [None]
captures = [0]


def jpeg_bytes(frame_size, quality):
    w, h = PIXELS[frame_size]
    return w * h * (quality + 20) // 1000


def power_on(bus, frame, quality):
    """The sensor on I2C bus `bus` and its frame buffer for the board's frame size name
    and quality, before the firmware's heap is counted (minute.py setup)."""
    from machine import Part
    frame_size = NAMES[frame]
    W = world.W
    W.parts[(bus, ADDR)] = Part({0x0A: 0x26, 0x0B: 0x42})
    n = jpeg_bytes(frame_size, quality)
    fb = bytearray(n)
    fb[0:len(_HEAD)] = _HEAD
    x = 1
    for i in range(len(_HEAD), n - 2):
        x = (x * 75 + 74) % 65537  # a filler that looks like entropy-coded data
        fb[i] = (x & 0x7E) | 0x80 if x & 1 else x & 0x7F
    fb[n - 2] = 0xFF
    fb[n - 1] = 0xD9
    _fb[0] = fb


def Version():
    return "0.6.0 (minute stand-in)"


class Camera:
    def __init__(self, data_pins=None, pclk_pin=-1, vsync_pin=-1, href_pin=-1, sda_pin=-1,
                 scl_pin=-1, xclk_pin=-1, i2c=None, xclk_freq=20000000, powerdown_pin=-1,
                 reset_pin=-1, pixel_format=0, frame_size=6, jpeg_quality=85, fb_count=1,
                 grab_mode=0, init=True):
        if data_pins is None or len(data_pins) != 8:
            raise ValueError("data_pins must have 8 elements")
        if i2c is None and (sda_pin == -1 or scl_pin == -1):
            raise ValueError("Either i2c object or sda_pin/scl_pin must be specified")
        if not 0 <= jpeg_quality <= 100:
            raise ValueError("jpeg quality must be in range 0-100")
        if pixel_format != 4:
            raise ValueError("the stand-in OV2640 gives JPEG frames only")
        if frame_size not in PIXELS:
            raise ValueError("Invalid setting for frame_size")
        old = _singleton[0]
        if old is not None:
            old.deinit()
        self._bus = i2c.id if i2c is not None else 0
        self._n = min(jpeg_bytes(frame_size, jpeg_quality), len(_fb[0] or b""))
        self._frame = frame_size
        self._at = 0  # when the next frame is there (virtual us)
        self.initialized = False
        _singleton[0] = self
        self.init()  # the C module captures a first frame here; the stand-in's is there
        if not init:
            self.deinit()

    def init(self):
        if self.initialized:
            return
        p = world.W.parts.get((self._bus, ADDR))
        if p is None or _fb[0] is None or p.mem[0x0A] != 0x26 or p.mem[0x0B] != 0x42:
            raise OSError(-_ESP_ERR_NOT_FOUND, "ESP_ERR_NOT_FOUND")
        self._at = world.W.us + SETTLE_US
        self.initialized = True

    def deinit(self):
        self.initialized = False

    def _check(self):
        if not self.initialized:
            raise OSError(_ENOENT)

    def frame_available(self):
        self._check()
        return world.W.us >= self._at

    def capture(self):
        self._check()
        if world.W.us < self._at:
            return None
        fb = _fb[0]
        captures[0] += 1
        fb[len(_HEAD)] = 0x80 | (captures[0] & 0x7F)  # each frame a little different
        return memoryview(fb)[:self._n]  # the GC heap pays this object, not the frame

    def free_buffer(self):
        pass

    @property
    def pixel_width(self):
        return PIXELS[self._frame][0]

    @property
    def pixel_height(self):
        return PIXELS[self._frame][1]
