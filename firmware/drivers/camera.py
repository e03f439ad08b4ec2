# A DVP camera (OV2640) through micropython-camera-API, the user C module `camera` on
# Espressif's esp32-camera (github.com/cnadler86/micropython-camera-API, v0.6, read in
# src/modcamera.c and src/modcamera_api.c). What it does:
# - Camera(**kw) is a singleton: it initialises the sensor and captures a first frame,
#   raising OSError when the sensor does not answer (esp_camera_init's error) or the first
#   frame fails; init=False deinitialises it again after that probe (unclocked).
# - init() / deinit(); capture() returns a memoryview on the driver's frame buffer (valid
#   until the next capture() or free_buffer()), or None when no frame came (the driver's
#   esp_camera_fb_get timed out); on a deinitialised camera it raises OSError(ENOENT).
# - frame_available(): a frame waits, so capture() returns at once.
# - jpeg_quality 0..100 (higher is better; mapped to the sensor's 63..0); i2c= takes a
#   machine.I2C (hardware I2C only) and shares that bus for SCCB.
# Stock MicroPython has no `camera` module: the board then reports the camera missing with
# NEEDS. init() is one C call (the sensor's reset and setup); capture() is called only once
# frame_available() says a frame waits, so it never waits for one.
from micropython import const

# FrameSize values of the module (typings/camera.pyi) and their pixels
FRAMES = {"QVGA": (6, 320, 240), "CIF": (8, 400, 296), "HVGA": (9, 480, 320),
          "VGA": (10, 640, 480), "SVGA": (11, 800, 600), "XGA": (12, 1024, 768),
          "HD": (13, 1280, 720), "SXGA": (14, 1280, 1024), "UXGA": (15, 1600, 1200)}
_JPEG = const(4)  # PixelFormat.JPEG
_LATEST = const(1)  # GrabMode.LATEST
NEEDS = ("this MicroPython has no camera module: flash micropython-camera-API's firmware "
         "for the board (mpy_cam-v1.27.0-XIAO_ESP32S3, github.com/cnadler86/"
         "micropython-camera-API releases)")


class CameraError(OSError):
    pass


class NoFrame(CameraError):
    """The camera gave no frame."""


class BadJpeg(CameraError):
    """The frame is not a whole JPEG (cut short, or not JPEG at all)."""


def check_jpeg(buf):
    """Raise BadJpeg unless buf starts with SOI (FFD8) and ends with EOI (FFD9)."""
    n = len(buf)
    if n < 4 or buf[0] != 0xFF or buf[1] != 0xD8:
        raise BadJpeg("not a JPEG (%d bytes)" % n)
    if buf[n - 2] != 0xFF or buf[n - 1] != 0xD9:
        raise BadJpeg("JPEG cut short (%d bytes, no end marker)" % n)


class Camera:
    def __init__(self, spec, i2c=None):
        try:
            import camera
        except ImportError:
            raise CameraError(NEEDS)
        frame = spec.get("frame", "VGA")
        if frame not in FRAMES:
            raise CameraError("unknown frame size %s" % frame)
        size, self.width, self.height = FRAMES[frame]
        self.frame = frame
        self.quality = spec.get("quality", 80)
        kw = {"data_pins": list(spec["data"]), "pclk_pin": spec["pclk"],
              "vsync_pin": spec["vsync"], "href_pin": spec["href"],
              "xclk_pin": spec["xclk"], "xclk_freq": spec.get("xclk_hz", 20000000),
              "powerdown_pin": spec.get("pwdn", -1), "reset_pin": spec.get("reset", -1),
              "pixel_format": _JPEG, "frame_size": size, "jpeg_quality": self.quality,
              "fb_count": 1, "grab_mode": _LATEST, "init": False}
        if i2c is not None:
            kw["i2c"] = i2c
        else:
            kw["sda_pin"] = spec["sda"]
            kw["scl_pin"] = spec["scl"]
        self.cam = camera.Camera(**kw)  # probes the sensor (OSError if it does not answer)
        self.on = False
        self.inits = 0

    def start(self):
        """Clock and set up the sensor (one C call)."""
        if not self.on:
            self.cam.init()
            self.on = True
            self.inits += 1

    def ready(self):
        return self.on and bool(self.cam.frame_available())

    def grab(self):
        """The frame (a memoryview on the driver's buffer, until release()); NoFrame or
        BadJpeg when there is none or it is not a whole JPEG."""
        mv = self.cam.capture()
        if mv is None:
            raise NoFrame("the camera gave no frame")
        try:
            check_jpeg(mv)
        except BadJpeg:
            self.release()
            raise
        return mv

    def release(self):
        self.cam.free_buffer()

    def stop(self):
        """Unclock the sensor (between photos)."""
        if self.on:
            self.on = False
            self.cam.deinit()
