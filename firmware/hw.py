# The board as the firmware sees it: what it is (name, capabilities, memory, pins, currents,
# battery) and the parts a board's `build()` managed to bring up. A part that is missing or
# faulty at boot is None, with the reason in `missing`; nothing here raises for a part.
#
# Idle: the scheduler hands the time to its next deadline to `idle(ms)`. The board sleeps
# lightly (machine.lightsleep) when it can: it has the capability and no service holds it
# awake (`stay_awake(reason, True)`: audio streaming, a BLE connection on boards that cannot
# keep one through lightsleep). Otherwise it waits without sleeping (clock.sleep_ms).
#
# The CPU clock: on a board with DATA "cpu_hz_idle" the CPU runs at that frequency while
# nothing but the BLE connection holds it awake (modem sleep draws less at a lower clock:
# docs/power.md), and at its full cpu_hz while the microphone, the speaker or the camera
# work. machine.freq() is called only when that choice changes.
import machine
from micropython import const

from firmware.runtime import clock as _clock

_MAX_AWAKE = const(8)
_LIGHT = ("ble",)  # reasons to stay awake that need no speed: connection events


class Board:
    def __init__(self, name, caps=(), ram_bytes=0, flash_bytes=0, pins=None, currents=None,
                 battery_mah=0, log=None, options=None, config=None, heap_bytes=0,
                 cpu_hz=0, cpu_hz_idle=0):
        self.name = name
        self.caps = tuple(caps)
        self.ram_bytes = ram_bytes
        self.flash_bytes = flash_bytes
        self.pins = pins or {}
        self.currents = currents or {}
        self.battery_mah = battery_mah
        self.log = log
        # DATA["options"]: settings services read (docs/ota.md: ota_public_key, ...)
        self.options = dict(options) if options else {}
        # DATA["config"]: the app config this board chooses (buffer sizes; firmware/app.py)
        self.config = dict(config) if config else {}
        self.heap_bytes = heap_bytes  # the GC heap the firmware is held to (boards/README.md)
        self.fs_root = ""  # the filesystem folder firmware copies live under (/firmware,
        #                    /slot_a, /ota): "" on a board, the flash folder in the simulator
        # parts (None when absent)
        self.i2c = None
        self.imu = None
        self.prox = None
        self.gauge = None
        self.touch = ()
        self.led = None
        self.privacy_led = None
        self.haptic = None
        self.mic = None
        self.speaker = None
        self.ble = None
        self.wdt = None
        self.store = None
        self.camera = None  # firmware.drivers.camera.Camera; capture_led: lit while it shoots
        self.capture_led = None
        self.missing = {}  # part name -> reason
        self._awake = []
        self.cpu_hz = cpu_hz  # full speed (the board's default clock)
        self.cpu_hz_idle = cpu_hz_idle  # the clock while idle (0: never changed)
        self.clock_changes = 0
        self._hz = cpu_hz
        self.sleeps = 0
        self.waits = 0

    def has(self, cap):
        return cap in self.caps

    def part_failed(self, name, reason):
        """Record a part that could not be brought up (build() calls this)."""
        self.missing[name] = reason
        if self.log is not None:
            self.log.warn("%s unavailable: %s", name, reason)

    def arm_watchdog(self, timeout_ms):
        """Start the hardware watchdog (it cannot be stopped again); returns it."""
        if self.wdt is None:
            self.wdt = machine.WDT(timeout=timeout_ms)
        return self.wdt

    def stay_awake(self, reason, on=True):
        """Hold (or release) the CPU awake through idle periods for `reason`."""
        if on:
            if reason not in self._awake:
                if len(self._awake) >= _MAX_AWAKE:
                    raise ValueError("too many stay_awake reasons")
                self._awake.append(reason)
        elif reason in self._awake:
            self._awake.remove(reason)
        self.tune_clock()

    def tune_clock(self):
        """Full speed while a part that streams holds the board awake, else cpu_hz_idle."""
        if not self.cpu_hz_idle:
            return
        busy = False
        for r in self._awake:
            if r not in _LIGHT:
                busy = True
                break
        hz = self.cpu_hz if busy else self.cpu_hz_idle
        if hz == self._hz:
            return
        try:
            machine.freq(hz)
        except (ValueError, AttributeError, OSError) as e:  # a port without it
            self.cpu_hz_idle = 0
            if self.log is not None:
                self.log.warn("cpu clock stays at %d MHz: %s", self._hz // 1000000, str(e))
            return
        self._hz = hz
        self.clock_changes += 1

    def awake_reasons(self):
        return tuple(self._awake)

    def can_lightsleep(self):
        return "lightsleep" in self.caps and not self._awake

    def idle(self, ms):
        """Give the time until the next deadline (ms; < 0: until an interrupt) away."""
        if self.can_lightsleep():
            self.sleeps += 1
            if ms > 0:
                machine.lightsleep(ms)
            else:
                machine.lightsleep()
        else:
            self.waits += 1
            if ms > 0:
                _clock.active().sleep_ms(ms)
            else:
                machine.idle()  # until the next interrupt

    def deepsleep(self, ms=0, touch=False):
        """Deep sleep (it never returns: the board boots again). Wakes after ms (0: no
        timer) or, with touch and a board that can (capability touch_wake), at a touch of
        a pad (esp32.wake_on_touch)."""
        if touch and self.touch and "touch_wake" in self.caps:
            import esp32
            esp32.wake_on_touch(True)
        if ms > 0:
            machine.deepsleep(ms)
        else:
            machine.deepsleep()

    def unique_id(self):
        return machine.unique_id()

    def describe(self):
        parts = []
        for name in ("imu", "prox", "gauge", "led", "privacy_led", "haptic", "mic",
                     "speaker", "ble"):
            parts.append("%s=%s" % (name, "yes" if getattr(self, name) is not None else "no"))
        parts.append("touch=%d" % len(self.touch))
        return "%s: %s" % (self.name, " ".join(parts))


def try_part(board, name, make):
    """make() the part, or record why it is missing and return None (never raises)."""
    try:
        return make()
    except Exception as e:
        board.part_failed(name, "%s: %s" % (type(e).__name__, e))
        return None
