"""One simulated board's world: everything below the HAL line.

A World holds the asyncio loop and the firmware clock (from sim/kernel.py), the board's
wiring (sim/wiring.py: pins, I2C wires with parts by address, I2S lines, PWM outputs, touch
electrodes, analog levels), the virtual parts themselves (sim/devices/), power accounting
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
from sim.wiring import (  # noqa: F401  (machine.Pin's values, for the mirror and the parts)
    IRQ_FALLING, IRQ_RISING, MODE_IN, MODE_OPEN_DRAIN, MODE_OUT, PULL_DOWN, PULL_UP, Wiring)

# reset causes, as MicroPython's machine module numbers them (esp32 port values)
PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5
RESET_NAMES = {PWRON_RESET: "power-on", HARD_RESET: "hard reset", WDT_RESET: "watchdog",
               DEEPSLEEP_RESET: "deepsleep wake", SOFT_RESET: "soft reset"}

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
        self.rtc_s = world.rtc_s

    def sleep_ms(self, ms):
        self._power.set_state("idle")


class World(Wiring):
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
        self._init_wiring()
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
        self.phone_notify = None  # fn(fields): a notification from the run's phone, if any
        self.reset_cause = PWRON_RESET
        self.reset_request = None  # (cause, why, wake_after_ms) once asked for
        self.supply = None  # sim/supply.py: the rail and the brown-out detector (populate)
        self._rtc_origin_us = 0
        self.deep_sleeping = False
        self.deep_wake_touch = False  # esp32.wake_on_touch(True): a touch ends deep sleep
        self._deep_wake = None  # an asyncio.Event while deep sleeping
        self.boot_count = 1
        self.wake_reason = 0
        self._wdt_timeout_ms = 0
        self._wdt_fed_us = 0
        self._wdt_handle = None
        self.wdt_resets = 0
        self.cpu_hz_default = self.data.get("cpu_hz", 160000000)  # what it boots at
        self.cpu_hz = self.cpu_hz_default
        self.log_sink = log_sink
        self.verbose = verbose
        self.lines = [] if keep_log else None
        self.recent = collections.deque(maxlen=200)
        self.watchers = []  # fn(t_s, source, text) for every line logged (sim/timeline.py)

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
        if self.supply is not None:
            self.supply.stop()
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

    def set_cpu_hz(self, hz):
        """machine.freq(hz): the power states' currents follow the board's figures for
        that clock (DATA "currents_ma_at_mhz"; the board's `currents_ma` are at its
        cpu_hz), and a wake's slice of MicroPython takes longer in proportion."""
        d = self.data
        base = self.cpu_hz_default
        at = d.get("currents_ma_at_mhz", {}).get(hz // 1000000)
        cur = {k: d["currents_ma"][k] for k in ("active", "idle")} if hz == base else at
        if cur is None:
            raise ValueError("the board data has no currents at %d MHz" % (hz // 1000000))
        self.cpu_hz = hz
        self.power.set_clock(cur, d.get("active_us_per_wake", 0) * base // hz)

    def rtc_s(self):
        """The MCU's RTC: whole seconds since it last powered up (deep sleep and soft
        resets keep it running; a power-on or the reset button start it again)."""
        return (self.now_us() - self._rtc_origin_us) // 1000000

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
        t = self.now_us() / 1e6
        line = "[%10.3f] %-4s %s" % (t, source, text)
        for fn in self.watchers:
            fn(t, source, text)
        self.recent.append(line)
        if self.lines is not None:
            self.lines.append(line)
        if self.log_sink is not None:
            self.log_sink(line)

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

    def halt(self):
        """The MCU stops (a reset held, deep sleep, a brown-out): every peripheral back to
        its reset state and the watchdog gone (the parts keep their own state: they are
        powered separately)."""
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

    def reboot(self):
        """Apply a pending reset (halt() if not done yet); a new boot begins."""
        cause = self.reset_request[0] if self.reset_request else HARD_RESET
        self.reset_request = None
        self.halt()
        if cause in (PWRON_RESET, HARD_RESET):
            self._rtc_origin_us = self.now_us()  # the RTC domain was reset too
        self.reset_cause = cause
        self.boot_count += 1
        if self.cpu_hz != self.cpu_hz_default:  # it boots at its default clock
            self.set_cpu_hz(self.cpu_hz_default)
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
        parts = devices.populate(self, skip=skip, options=options or {})
        if self.data.get("supply") and self.battery is not None:
            from sim.supply import Supply
            self.supply = Supply(self, self.data["supply"]).start()
        return parts

    # ---- deep sleep -----------------------------------------------------------------------
    async def deep_sleep(self, wake_after_ms=None):
        """The board deep-sleeps until its timer (wake_after_ms), a wake source the firmware
        armed (a touch, with esp32.wake_on_touch), or a brown-out. Returns why it woke:
        "timer", "touch" or "brownout"."""
        import asyncio
        self.deep_sleeping = True
        self._deep_wake = asyncio.Event()
        self._woke = "timer"
        try:
            if wake_after_ms:
                try:
                    await asyncio.wait_for(self._deep_wake.wait(), wake_after_ms / 1000)
                except asyncio.TimeoutError:
                    pass
            else:
                await self._deep_wake.wait()
        finally:
            self.deep_sleeping = False
            self._deep_wake = None
        self.wake_reason = {"timer": 4, "touch": 5}.get(self._woke, 0)  # machine.*_WAKE
        return self._woke

    def wake_from_deepsleep(self, why):
        """A wake source fired (why: "touch", "brownout"); no effect unless deep sleeping."""
        if self._deep_wake is not None and not self._deep_wake.is_set():
            self._woke = why
            self._deep_wake.set()
            return True
        return False

    def couple_audio(self, gain_db=-12.0, delay_ms=1.0, speaker="speaker", mic="mic"):
        """The microphone hears the glasses' own speaker from now on, gain_db below what it
        plays, delay_ms later (sound over a few cm, and the amplifier); None: not at all
        (the default: a room where only the wearer is heard)."""
        spk = self.part(speaker)
        if gain_db is None:
            spk.echo_to = None
            return
        gain = int(32768 * 10 ** (gain_db / 20.0))
        spk.echo_to = (self.part(mic), min(32767, gain), int(delay_ms * 1000))

    def part(self, name):
        p = self.parts.get(name)
        if p is None:
            raise KeyError("this board has no part %r (parts: %s)"
                           % (name, ", ".join(sorted(self.parts)) or "none"))
        return p
