"""One simulated board's world: everything below the HAL line.

A World holds the asyncio loop and the firmware clock (from sim/kernel.py), the board's
wiring (pins, I2C wires with parts by address, I2S lines, PWM outputs, touch electrodes,
analog levels), the virtual parts themselves (sim/devices/), power accounting
(sim/power.py), the board's flash folder, the watchdog and reset requests, and an event
log. The `machine` mirror (sim/mirror/machine.py) acts on the *active* world: tests and the
runner create one explicitly and activate it; nothing is created at import.

    world = World(load_board("xiao_esp32s3_sense"), seed=7).activate()
    world.populate()                  # the board's virtual parts, wired as its data says
    ...                               # machine.Pin / I2C / I2S now reach this world
    world.close()

Parts call `drive_pin()` to raise interrupts; an IRQ handler runs at once (in the loop
thread, like the firmware itself) and the FirmwareDriver is kicked so the firmware's
scheduler runs next.
"""
import collections
import hashlib
import os
import tempfile
import time

from sim.power import PowerMeter

# reset causes, as MicroPython's machine module numbers them (esp32 port values)
PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5
RESET_NAMES = {PWRON_RESET: "power-on", HARD_RESET: "hard reset", WDT_RESET: "watchdog",
               DEEPSLEEP_RESET: "deepsleep wake", SOFT_RESET: "soft reset"}

# pin modes/pulls (machine.Pin values)
MODE_IN = 1
MODE_OUT = 3
MODE_OPEN_DRAIN = 7
PULL_DOWN = 1
PULL_UP = 2
IRQ_RISING = 1
IRQ_FALLING = 2

_current = None


class NoWorld(RuntimeError):
    pass


def current():
    """The active world; machine.* calls act on it."""
    if _current is None:
        raise NoWorld("no simulated world is active: create one with "
                      "sim.world.World(board).activate() before using machine.*")
    return _current


def board_data(board):
    """The DATA dict of a board module (or a dict already)."""
    data = board if isinstance(board, dict) else getattr(board, "DATA", None)
    if not isinstance(data, dict) or "name" not in data:
        raise ValueError("not a board: %r has no DATA dict with a name" % (board,))
    return data


class PinState:
    """One GPIO as the world sees it: the MCU's side (mode, pull, output latch, IRQ) and
    the outside (the level a part drives, or None when nothing drives it)."""

    def __init__(self, gpio):
        self.gpio = gpio
        self.mode = None  # None: never configured (reset state: input)
        self.pull = None
        self.out = 0
        self.ext = None
        self.irq_handler = None
        self.irq_trigger = 0
        self.irq_pin = None  # the machine.Pin object passed to the handler
        self.irq_count = 0
        self.observers = []  # fn(level) on every change of the level on the wire

    def level(self):
        if self.mode == MODE_OUT:
            return self.out
        if self.mode == MODE_OPEN_DRAIN and self.out == 0:
            return 0
        if self.ext is not None:
            return self.ext
        return 1 if (self.pull == PULL_UP or self.mode == MODE_OPEN_DRAIN) else 0


class I2CWires:
    """An I2C bus as wires (SCL, SDA) with the parts that listen on it."""

    def __init__(self, scl, sda):
        self.scl = scl
        self.sda = sda
        self.parts = {}  # addr -> part
        self.transfers = 0

    def attach(self, part):
        if part.addr in self.parts:
            raise ValueError("two parts at I2C address 0x%02X" % part.addr)
        self.parts[part.addr] = part


class FirmwareClock:
    """The clock the firmware sees in the simulator: the world's clock, except that
    sleep_ms() does not wait. It records the 'idle' power state and returns; the
    FirmwareDriver does the waiting (as with machine.lightsleep in the mirror)."""

    def __init__(self, world):
        c = world.clock
        self.virtual = c.virtual
        self.ticks_ms = c.ticks_ms
        self.ticks_us = c.ticks_us
        self.ticks_diff = c.ticks_diff
        self.ticks_add = c.ticks_add
        self._power = world.power

    def sleep_ms(self, ms):
        self._power.set_state("idle")


class World:
    def __init__(self, board, seed=0, virtual=True, flash_dir=None, loop=None, clock=None,
                 keep_log=False, log_sink=None, verbose=False):
        self.data = board_data(board)
        self.board_module = None if isinstance(board, dict) else board
        self.name = self.data["name"]
        self.port = self.data.get("port", "esp32")
        self.seed = seed
        self.virtual = virtual
        if loop is None:
            from sim.kernel import new_loop  # here: the kernel installs the mirrors, which
            loop, clock = new_loop(virtual, seed)  # import this module
        self.loop = loop
        self.clock = clock
        self._t0_ns = time.monotonic_ns()
        if flash_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="glasses-flash-")
            flash_dir = self._tmp.name
        else:
            self._tmp = None
            os.makedirs(flash_dir, exist_ok=True)
        self.flash_dir = flash_dir
        self.pins = {}
        self.i2c = {}  # (scl, sda) -> I2CWires
        self.i2s_parts = {}  # (sck, ws, sd) -> part
        self.touch_parts = {}  # gpio -> electrode part
        self.pwm = {}  # gpio -> (freq, duty_u16) while a PWM drives it
        self._pwm_observers = {}
        self.analog = {}  # gpio -> volts
        self.open_peripherals = []  # I2S/PWM objects to stop on reset
        self.parts = {}
        self.battery = None
        self.power = PowerMeter(self.data["currents_ma"], self.now_us,
                                battery_mah=self.data.get("battery_mah", 0),
                                active_us_per_wake=self.data.get("active_us_per_wake", 0))
        if self.data["currents_ma"].get("board"):
            self.power.set_adder("board", self.data["currents_ma"]["board"])
        self.fw_clock = FirmwareClock(self)
        self.driver = None  # the FirmwareDriver, once firmware runs
        self.radio = None  # the BLE radio seam (sim/radio*.py plugs in here)
        self.reset_cause = PWRON_RESET
        self.reset_request = None  # (cause, why, wake_after_ms) once asked for
        self.boot_count = 1
        self.wake_reason = 0
        self._wdt_timeout_ms = 0
        self._wdt_fed_us = 0
        self._wdt_handle = None
        self.wdt_resets = 0
        self.cpu_hz = self.data.get("cpu_hz", 160000000)
        self.log_sink = log_sink
        self.verbose = verbose
        self.lines = [] if keep_log else None
        self.recent = collections.deque(maxlen=200)

    # ---- activation ----------------------------------------------------------------------
    def activate(self):
        global _current
        _current = self
        return self

    def deactivate(self):
        global _current
        if _current is self:
            _current = None

    def __enter__(self):
        return self.activate()

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.deactivate()
        if self._wdt_handle is not None:
            self._wdt_handle.cancel()
        if not self.loop.is_closed() and not self.loop.is_running():
            self.loop.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # ---- time ---------------------------------------------------------------------------
    def now_us(self):
        """Simulated microseconds since the world began (an exact integer)."""
        if self.virtual:
            c = self.clock
            return c.elapsed_s * 1000000 + c._elapsed_us
        return (time.monotonic_ns() - self._t0_ns) // 1000

    def now_s(self):
        return self.now_us() / 1e6

    def call_at_us(self, t_us, fn, *args):
        """Run fn(*args) in the loop at simulated time t_us (or now, if past)."""
        delay = (t_us - self.now_us()) / 1e6
        return self.loop.call_later(max(0.0, delay), fn, *args)

    def call_later_us(self, us, fn, *args):
        return self.loop.call_later(max(0.0, us / 1e6), fn, *args)

    # ---- the event log -------------------------------------------------------------------
    def note(self, source, text, detail=False):
        """One line of the event log; `detail` lines (LED blinks...) only when verbose."""
        if detail and not self.verbose:
            return
        line = "[%10.3f] %-4s %s" % (self.now_us() / 1e6, source, text)
        self.recent.append(line)
        if self.lines is not None:
            self.lines.append(line)
        if self.log_sink is not None:
            self.log_sink(line)

    # ---- pins ----------------------------------------------------------------------------
    def resolve_pin(self, pin_id):
        """A GPIO number for a Pin id (an int or one of the board's pin names)."""
        gpios = self.data.get("gpios", ())
        if isinstance(pin_id, str):
            named = self.data.get("pin_names", {})
            if pin_id in named:
                return named[pin_id]
            raise ValueError("unknown named pin \"%s\"" % pin_id)
        if isinstance(pin_id, bool) or not isinstance(pin_id, int):
            raise TypeError("can't convert %s to int" % type(pin_id).__name__)
        if pin_id not in gpios:
            raise ValueError("invalid pin")
        return pin_id

    def pin(self, gpio):
        st = self.pins.get(gpio)
        if st is None:
            st = self.pins[gpio] = PinState(gpio)
        return st

    def _changed(self, st, before, mode_changed=False):
        after = st.level()
        if after == before:
            if mode_changed:  # same level, but now driven (or released): tell the parts
                for fn in list(st.observers):
                    fn(after)
            return
        for fn in list(st.observers):
            fn(after)
        trig = st.irq_trigger
        if st.irq_handler is not None and (
                (after and trig & IRQ_RISING) or (not after and trig & IRQ_FALLING)):
            st.irq_count += 1
            st.irq_handler(st.irq_pin)
            self.kick()

    def drive_pin(self, gpio, level):
        """A part drives the wire (None: lets it float). Edges run the pin's IRQ."""
        st = self.pin(gpio)
        before = st.level()
        st.ext = None if level is None else (1 if level else 0)
        self._changed(st, before)

    def set_pin(self, gpio, mode=-1, pull=-1, out=None):
        """The MCU side (machine.Pin): mode, pull, output latch."""
        st = self.pin(gpio)
        before = st.level()
        old_mode = st.mode
        if mode != -1:
            st.mode = mode
        if pull != -1:
            st.pull = pull
        if out is not None:
            st.out = 1 if out else 0
        self._changed(st, before, st.mode != old_mode)

    def observe_pin(self, gpio, fn):
        self.pin(gpio).observers.append(fn)

    # ---- buses and outputs ----------------------------------------------------------------
    def wires(self, scl, sda, create=False):
        w = self.i2c.get((scl, sda))
        if w is None and create:
            w = self.i2c[(scl, sda)] = I2CWires(scl, sda)
        return w

    def attach_i2c(self, scl, sda, part):
        self.wires(scl, sda, create=True).attach(part)

    def attach_i2s(self, sck, ws, sd, part):
        self.i2s_parts[(sck, ws, sd)] = part

    def attach_touch(self, gpio, part):
        self.touch_parts[gpio] = part

    def set_pwm(self, gpio, freq, duty_u16):
        """A PWM output changed (duty_u16 None: the PWM was released)."""
        if duty_u16 is None:
            self.pwm.pop(gpio, None)
        else:
            self.pwm[gpio] = (freq, duty_u16)
        for fn in self._pwm_observers.get(gpio, ()):
            fn(freq, duty_u16)

    def observe_pwm(self, gpio, fn):
        self._pwm_observers.setdefault(gpio, []).append(fn)

    # ---- firmware driver, watchdog, resets ------------------------------------------------
    def kick(self):
        if self.driver is not None:
            self.driver.kick()

    def wdt_start(self, timeout_ms):
        if self._wdt_timeout_ms:
            return  # MicroPython: a running WDT cannot be reconfigured
        self._wdt_timeout_ms = timeout_ms
        self.wdt_feed()

    def wdt_feed(self):
        self._wdt_fed_us = self.now_us()
        if self._wdt_handle is None:
            self._arm_wdt(self._wdt_fed_us + self._wdt_timeout_ms * 1000)

    def _arm_wdt(self, deadline_us):
        self._wdt_handle = self.call_at_us(deadline_us, self._wdt_check)

    def _wdt_check(self):
        self._wdt_handle = None
        if not self._wdt_timeout_ms:
            return
        deadline = self._wdt_fed_us + self._wdt_timeout_ms * 1000
        if self.now_us() < deadline:
            self._arm_wdt(deadline)
            return
        self.wdt_resets += 1
        self.note("hw", "watchdog expired (not fed for %d ms): reset" % self._wdt_timeout_ms)
        self.request_reset(WDT_RESET, "watchdog")

    def request_reset(self, cause, why, wake_after_ms=None):
        """The board resets: the firmware stops now; the runner reboots it."""
        if self.reset_request is None:
            self.reset_request = (cause, why, wake_after_ms)
        if self.driver is not None:
            self.driver.stop()

    def reboot(self):
        """Apply a pending reset: every peripheral back to its reset state (the parts
        keep their own state: they are powered separately) and a new boot begins."""
        cause = self.reset_request[0] if self.reset_request else HARD_RESET
        self.reset_request = None
        for p in list(self.open_peripherals):
            p._sim_release()
        self.open_peripherals = []
        for st in self.pins.values():
            before = st.level()
            st.irq_handler = None
            st.irq_trigger = 0
            changed = st.mode is not None
            st.mode = st.pull = None
            st.out = 0
            self._changed(st, before, changed)
        if self._wdt_handle is not None:
            self._wdt_handle.cancel()
            self._wdt_handle = None
        self._wdt_timeout_ms = 0
        self.reset_cause = cause
        self.boot_count += 1
        self.power.set_state("active")
        self.note("hw", "boot #%d (%s)" % (self.boot_count, RESET_NAMES.get(cause, cause)))

    def unique_id(self):
        n = 8 if self.port == "rp2" else 6
        return hashlib.sha256(("%s/%d" % (self.name, self.seed)).encode()).digest()[:n]

    # ---- parts --------------------------------------------------------------------------
    def populate(self, skip=(), options=None):
        """Create the board's virtual parts as its DATA wires them (sim/devices/).
        `skip`: part names left out (a missing part); `options`: {part: {kw: value}}."""
        from sim import devices
        return devices.populate(self, skip=skip, options=options or {})

    def part(self, name):
        p = self.parts.get(name)
        if p is None:
            raise KeyError("this board has no part %r (parts: %s)"
                           % (name, ", ".join(sorted(self.parts)) or "none"))
        return p
