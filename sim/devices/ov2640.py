"""Virtual OmniVision OV2640 camera on a DVP bus, as far as the camera driver sees it.

Bus side: SCCB (I2C) at 0x30 with the bank select register 0xFF (1: sensor bank, where
PIDH 0x0A = 0x26, PIDL 0x0B = 0x42, MIDH 0x1C = 0x7F, MIDL 0x1D = 0xA2); one register per
transfer (no auto-increment). The DVP side is what sim/mirror/camera.py (the `camera`
module's mirror) uses: clock(on) while XCLK runs, frame_ready() / take_frame() for JPEG
frames: the first SETTLE_US after the clock starts, then one per FRAME_US (12.5 fps, the
module's README figure for VGA JPEG with one frame buffer).

High-level side: set_scene(name or image path), use_folder(path) (its images in turn),
and faults: disconnect() (SCCB and DVP silent), stall(n) (the next n clock-ups give no
frame), truncate(n) (the next n frames are cut short, as a JPEG a DMA overrun leaves).
Current: `ma` while clocked, `idle_ma` while not (no PWDN line on the Sense: the clock
stopping is what quiets it).
"""
from sim import scenes
from sim.devices.base import RegisterPart

ADDR = 0x30
_BANK = 0xFF
_SENSOR_ID = {0x0A: 0x26, 0x0B: 0x42, 0x1C: 0x7F, 0x1D: 0xA2}
SETTLE_US = 300000  # first frame after the clock starts (AEC/AWB settle)
FRAME_US = 80000


class OV2640(RegisterPart):
    kind = "ov2640"

    @classmethod
    def wire(cls, world, name, spec, **options):
        part = cls(world, name, spec, **options)
        world.attach_i2c(spec["scl"], spec["sda"], part)
        return part

    def __init__(self, world, name, spec, scene=scenes.DEFAULT, folder=None):
        self.spec = spec
        super().__init__(world, name, ADDR, size=256)
        self.pins = {"xclk": spec["xclk"], "pclk": spec["pclk"], "vsync": spec["vsync"],
                     "href": spec["href"], "data": tuple(spec["data"])}
        self.ma = spec.get("ma", 40.0)
        self.idle_ma = spec.get("idle_ma", 0.6)
        self.scene = scene
        self.folder = None
        self._folder_i = 0
        if folder:
            self.use_folder(folder)
        self.clocked = False
        self.frames = 0  # frames delivered
        self.clock_ups = 0
        self._stalls = 0
        self._stalled = False
        self._truncs = 0
        self._next_us = 0
        self.frame_size = (640, 480)
        self.quality = 80
        self._update_power()

    # ---- SCCB ---------------------------------------------------------------------------
    def power_on_reset(self):
        self.regs[:] = bytes(len(self.regs))
        self.bank = 0
        self.ptr = 0

    def auto_increment(self):
        return False

    def read_reg(self, reg):
        if reg == _BANK:
            return self.bank
        if self.bank == 1 and reg in _SENSOR_ID:
            return _SENSOR_ID[reg]
        return self.regs[reg]

    def write_reg(self, reg, value):
        if reg == _BANK:
            self.bank = value & 1
        else:
            self.regs[reg] = value

    def sensor_id(self):
        """PID, VER as the driver's probe reads them (over SCCB)."""
        return (_SENSOR_ID[0x0A] << 8) | _SENSOR_ID[0x0B]

    # ---- DVP ----------------------------------------------------------------------------
    def clock(self, on, frame_size=None, quality=None):
        """XCLK starts (the driver's init) or stops (deinit)."""
        if frame_size is not None:
            self.frame_size = frame_size
        if quality is not None:
            self.quality = quality
        if on == self.clocked:
            return
        self.clocked = on
        if on:
            self.clock_ups += 1
            self._stalled = self._stalls > 0
            if self._stalled:
                self._stalls -= 1
            self._next_us = self.world.now_us() + SETTLE_US
        self.note("clock %s" % ("on" if on else "off"))
        self._update_power()

    def can_frame(self):
        """Would the sensor give a frame now that it is clocked (the driver's probe)?"""
        return self.clocked and self.present and not self._stalled

    def frame_ready(self):
        return (self.clocked and self.present and not self._stalled
                and self.world.now_us() >= self._next_us)

    def take_frame(self):
        """The next JPEG frame (bytes), or None if none is ready."""
        if not self.frame_ready():
            return None
        w, h = self.frame_size
        data = scenes.render(self._source(), w, h, self.quality, self.seed, self.frames)
        self.frames += 1
        self._next_us = self.world.now_us() + FRAME_US
        if self._truncs:
            self._truncs -= 1
            data = data[:len(data) * 2 // 3]
            self.note("frame %d cut short (fault injected)" % self.frames)
        return data

    def _source(self):
        if self.folder:
            path = self.folder[self._folder_i % len(self.folder)]
            self._folder_i += 1
            return path
        return self.scene

    # ---- high-level side -------------------------------------------------------------------
    def set_scene(self, scene):
        """A built-in scene (sim/scenes.py SCENES) or an image file."""
        if scene not in scenes.TEXT:
            with open(scene, "rb"):
                pass  # exists and is readable
        self.scene = scene
        self.folder = None
        self.note("sees %s" % scene)

    def use_folder(self, path):
        self.folder = scenes.folder_images(path)
        self._folder_i = 0

    def stall(self, count=1):
        """The next `count` clock-ups give no frame (the sensor does not answer)."""
        self._stalls = count

    def truncate(self, count=1):
        self._truncs = count

    def _update_power(self):
        self.world.power.set_adder(self.name, self.ma if self.clocked else self.idle_ma)

    def describe(self):
        return "%s, %d frames" % ("on" if self.clocked else "off", self.frames)
