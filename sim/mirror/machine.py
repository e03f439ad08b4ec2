"""Mirror of MicroPython's `machine` module, acting on the active simulated world
(sim/world.py). Signatures, constants and errors follow MicroPython 1.27 (esp32 port
values; port differences come from the board's DATA: `port`, `gpios`, `touch_gpios`,
`i2c_ids`, `i2c_pins`, `i2s_ids`, `wdt_max_ms`...).

What a real board rejects is rejected here the same way: a pin the chip does not have ->
ValueError("invalid pin"); no part acks the address -> OSError(ENODEV); a bus fault ->
OSError(EIO); an I2S or PWM used after deinit() -> ValueError.

Differences, on purpose: lightsleep()/deepsleep() do not wait (they record the power state;
the simulator's FirmwareDriver does the waiting), reset()/deepsleep() raise SimReset (a
BaseException, so firmware `except Exception` cannot swallow it: on a board they never
return), and a blocking I2S readinto/write moves only the frames whose time has come.

The peripheral classes are written in private modules and re-exported here:
_machine_pin.py (Pin, Signal), _machine_i2c.py (I2C, SoftI2C), _machine_i2s.py (I2S),
_machine_analog.py (PWM, ADC, TouchPad). Here: the constants, SimReset, WDT and the
module's functions.
"""
import errno

from sim import world as _world
from sim.mirror._machine_analog import ADC, PWM, _TouchPad  # noqa: F401  (the module's API)
from sim.mirror._machine_i2c import I2C, SoftI2C  # noqa: F401
from sim.mirror._machine_i2s import I2S  # noqa: F401
from sim.mirror._machine_pin import Pin, Signal, _w  # noqa: F401

PWRON_RESET = _world.PWRON_RESET
HARD_RESET = _world.HARD_RESET
WDT_RESET = _world.WDT_RESET
DEEPSLEEP_RESET = _world.DEEPSLEEP_RESET
SOFT_RESET = _world.SOFT_RESET
IDLE = 1
SLEEP = 2
DEEPSLEEP = 4
PIN_WAKE = 2
EXT0_WAKE = 2
EXT1_WAKE = 3
TIMER_WAKE = 4
TOUCHPAD_WAKE = 5
ULP_WAKE = 6


class SimReset(BaseException):
    """The firmware asked the board to reset (reset(), soft_reset(), deepsleep())."""

    def __init__(self, cause, why):
        super().__init__("%s (%s)" % (why, _world.RESET_NAMES.get(cause, cause)))
        self.cause = cause


_PORT_ONLY = {"TouchPad": ("esp32", _TouchPad)}


def __getattr__(name):
    """Port-specific classes exist only on their port (rp2 has no TouchPad)."""
    if name in _PORT_ONLY:
        port, cls = _PORT_ONLY[name]
        w = _world._current
        if w is None or w.port == port:
            return cls
    raise AttributeError("module 'machine' has no attribute '%s'" % name)


# ---- WDT ------------------------------------------------------------------------------------
class WDT:
    def __init__(self, id=0, timeout=5000):
        w = _w()
        lo = w.data.get("wdt_min_ms", 1)
        hi = w.data.get("wdt_max_ms", 0)
        if timeout < lo:
            raise ValueError("WDT timeout too short")
        if hi and timeout > hi:
            raise ValueError("WDT timeout too long")
        self._world = w
        w.wdt_start(timeout)

    def feed(self):
        self._world.wdt_feed()


# ---- functions ------------------------------------------------------------------------------
def reset():
    _w().request_reset(SOFT_RESET if _w().port == "esp32" else WDT_RESET, "machine.reset()")
    raise SimReset(_w().reset_request[0], "machine.reset()")


def soft_reset():
    _w().request_reset(SOFT_RESET, "machine.soft_reset()")
    raise SimReset(SOFT_RESET, "machine.soft_reset()")


def reset_cause():
    return _w().reset_cause


def wake_reason():
    return _w().wake_reason


def unique_id():
    return _w().unique_id()


def freq(hz=None):
    w = _w()
    if hz is None:
        return w.cpu_hz
    allowed = w.data.get("cpu_hz_allowed")
    if allowed and hz not in allowed:
        raise ValueError("frequency must be one of %s"
                         % ", ".join("%dMHz" % (f // 1000000) for f in allowed))
    w.set_cpu_hz(hz)
    return None


def idle():
    _w().power.set_state("idle")


def lightsleep(time_ms=None):
    """Records that the board sleeps until its next wake; does not wait (see above)."""
    w = _w()
    if "lightsleep" not in w.data.get("caps", ()):
        raise OSError(errno.EOPNOTSUPP, "lightsleep not supported on this board")
    w.power.set_state("lightsleep")
    w.wake_reason = TIMER_WAKE if time_ms else PIN_WAKE


def deepsleep(time_ms=None):
    w = _w()
    w.power.set_state("deepsleep")
    w.request_reset(DEEPSLEEP_RESET, "deepsleep", wake_after_ms=time_ms)
    raise SimReset(DEEPSLEEP_RESET, "deepsleep")


def disable_irq():
    return 0


def enable_irq(state=0):
    return None


def bootloader(*args):
    raise SimReset(HARD_RESET, "bootloader")
