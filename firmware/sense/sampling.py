# The sensor service: tasks that read the board's sensors at their rates and hand the
# samples to consumers, and that survive parts that stop answering.
#
# Consumers are plain callables passed in (any may be None):
#   on_tap(kind)                         kind "single" or "double", from the IMU's own tap
#                                        engine (INT1 -> Flag). A double tap is preceded by
#                                        the single tap the chip reports for its first knock.
#   on_gyro(x, y, z, t_ms)               degrees/s (x roll, y pitch, z yaw) at gyro_hz
#   on_prox(count, t_ms)                 proximity counts (higher = closer) every prox_ms
#   on_battery(soc_pct, volts, charging, t_ms)   every gauge_ms; charging from the gauge's
#                                        charge rate (> +1 %/h)
#   on_touch(pad, touched, t_ms)         pad index into board.touch, on every change
#   on_fault(part, reason)               reason is a string when `part` ("imu", "prox",
#                                        "gauge", "touch") stops answering, None once it is
#                                        back
# t_ms is the scheduler clock's ticks_ms() (wraps: compare with ticks_diff). Callbacks run
# in the service's tasks: keep them short, or hand the sample to a Queue.
#
# Faults: an OSError (or a chip id that no longer matches) marks the part faulty; its tasks
# wait while a recovery task re-runs the part's setup (chip id check + configuration) after
# 250 ms, then 500 ms, ... up to 16 s between attempts, until it answers again. The other
# parts keep running. A part the board could not bring up at boot (None) is "absent" and
# not retried.
from micropython import const

from firmware.runtime import sched as _s
from firmware.runtime.log import seconds
from firmware.runtime.sync import Event, Flag
from firmware.drivers import DriverError, errno_name

OK = "ok"
FAULTY = "faulty"
ABSENT = "absent"
TAP_KINDS = (None, "single", "double")
PERIODS = ("prox", "gauge", "touch")  # parts polled every <part>_ms (set_period_ms)

_BACKOFF_MIN_MS = const(250)
_BACKOFF_MAX_MS = const(16000)
_TAP_POLL_MS = const(5000)  # also read TAP_SRC this often, in case an edge was missed
_CHARGING_PCT_H = 1.0


def _reason(e):
    if isinstance(e, OSError):
        return "I/O error %s" % errno_name(e)
    return str(e)


class SensorService:
    def __init__(self, sched, board, on_tap=None, on_gyro=None, on_prox=None,
                 on_battery=None, on_touch=None, on_fault=None, gyro_hz=0, prox_ms=1000,
                 gauge_ms=5000, touch_ms=50, tap_threshold_g=0.6, double_tap=True,
                 accel_g=4, gyro_dps=500, log=None):
        self.sched = sched
        self.board = board
        self.on_tap = on_tap
        self.on_gyro = on_gyro
        self.on_prox = on_prox
        self.on_battery = on_battery
        self.on_touch = on_touch
        self.on_fault = on_fault
        self.gyro_hz = gyro_hz
        self.prox_ms = prox_ms
        self.gauge_ms = gauge_ms
        self.touch_ms = touch_ms
        self.tap_threshold_g = tap_threshold_g
        self.double_tap = double_tap
        self.accel_g = accel_g
        self.gyro_dps = gyro_dps
        self.log = log if log is not None else sched.log
        self.status = {}
        self.faults = 0
        self.recoveries = 0
        self.retries = 0
        self.taps = 0
        self.samples = 0
        self._ready = {}
        self._parts = {"imu": board.imu, "prox": board.prox, "gauge": board.gauge,
                       "touch": board.touch[0] if board.touch else None}
        self._setup = {"imu": self._setup_imu, "prox": self._setup_prox,
                       "gauge": self._setup_gauge, "touch": self._setup_touch}
        self._tap_flag = None
        self._gyro_change = None
        self._int1_handler = self._on_int1  # bound once: an IRQ must not allocate
        self._applied_gyro_hz = -1
        c = sched.clock  # the scheduler's clock (t_ms in the callbacks comes from it)
        self._ticks = c.ticks_ms
        self._diff = c.ticks_diff
        self._add = c.ticks_add

    # ---- life cycle ------------------------------------------------------------------------
    def start(self):
        s = self.sched
        prio = _s.PRIO_SENSOR
        self._gyro_change = Event()
        for name, part in self._parts.items():
            if part is None:
                self.status[name] = ABSENT
                continue
            self.status[name] = OK
            ev = Event()
            ev.set()
            self._ready[name] = ev
        if self.board.imu is not None:
            self._tap_flag = Flag(s)
            s.spawn(self._imu_taps, name="imu-tap", prio=prio)
            s.spawn(self._imu_gyro, name="imu-gyro", prio=prio)
        if self.board.prox is not None:
            s.spawn(self._prox, name="prox", prio=prio)
        if self.board.gauge is not None:
            s.spawn(self._gauge, name="gauge", prio=prio)
        if self.board.touch:
            s.spawn(self._touch, name="touch", prio=prio)
        return self

    def set_gyro_hz(self, hz):
        """Gyro samples at hz (0: off, the gyroscope powered down)."""
        if hz < 0:
            raise ValueError("gyro_hz must be >= 0")
        self.gyro_hz = hz
        if self._gyro_change is not None:
            self._gyro_change.set()

    def set_period_ms(self, part, ms):
        """Poll `part` ("prox", "gauge" or "touch") every ms from its next reading on (a
        wait already under way is not cut short)."""
        if part not in PERIODS:
            raise ValueError("no polling period for part %r (parts: prox, gauge, touch)"
                             % (part,))
        if not isinstance(ms, int) or ms <= 0:
            raise ValueError("period must be a whole number of ms > 0, not %r" % (ms,))
        setattr(self, part + "_ms", ms)

    def period_ms(self, part):
        return getattr(self, part + "_ms")

    # ---- faults ---------------------------------------------------------------------------
    async def _fault(self, name, err):
        """An operation on part `name` failed: mark it faulty (once), start its recovery,
        and wait until it is back."""
        ev = self._ready[name]
        if self.status[name] == OK:
            self.status[name] = FAULTY
            self.faults += 1
            ev.clear()
            reason = _reason(err)
            self.log.warn("%s is faulty: %s", name, reason)
            if self.on_fault is not None:
                self.on_fault(name, reason)
            self.sched.spawn(self._recover, name, name="recover-" + name, prio=_s.PRIO_SENSOR)
        await ev.wait()

    async def _recover(self, name):
        delay = _BACKOFF_MIN_MS
        t0 = self._ticks()
        while True:
            await _s.sleep_ms(delay)
            self.retries += 1
            try:
                self._setup[name]()
            except (OSError, DriverError) as e:  # no answer, or a wrong chip id
                self.log.info("%s still faulty: %s", name, _reason(e))
                delay = delay * 2 if delay < _BACKOFF_MAX_MS // 2 else _BACKOFF_MAX_MS
                continue
            break
        self.status[name] = OK
        self.recoveries += 1
        self.log.info("%s recovered after %s", name, seconds(self._diff(self._ticks(), t0)))
        if self.on_fault is not None:
            self.on_fault(name, None)
        self._ready[name].set()

    # ---- setups (at start and after a fault) ------------------------------------------------
    def _setup_imu(self):
        imu = self.board.imu
        imu.init()
        imu.configure(accel_hz=416, accel_g=self.accel_g, gyro_hz=self.gyro_hz,
                      gyro_dps=self.gyro_dps)
        self._applied_gyro_hz = self.gyro_hz
        imu.enable_taps(self.tap_threshold_g, self.double_tap)
        imu.read_tap()  # drop anything latched before now (and release INT1)

    def _setup_prox(self):
        p = self.board.prox
        p.init()
        p.enable_proximity(led_ma=50, duty=320, it=2, high_res=True)

    def _setup_gauge(self):
        g = self.board.gauge
        g.init()
        g.set_alert_threshold(10)

    def _setup_touch(self):
        for pad in self.board.touch:
            try:
                pad.calibrate()
            except ValueError as e:  # esp32 TouchPad.read(): "Touch pad error"
                raise OSError(5, str(e))

    # ---- the tasks -------------------------------------------------------------------------
    def _on_int1(self, pin):
        self._tap_flag.set()

    async def _imu_taps(self):
        imu = self.board.imu
        flag = self._tap_flag
        try:
            self._setup_imu()
        except (OSError, DriverError) as e:
            await self._fault("imu", e)
        imu.on_int1(self._int1_handler)
        while True:
            await flag.wait(_TAP_POLL_MS)
            if self.status["imu"] != OK:
                await self._ready["imu"].wait()
                continue
            try:
                kind = imu.read_tap()
            except OSError as e:
                await self._fault("imu", e)
                continue
            if kind:
                self.taps += 1
                if self.on_tap is not None:
                    self.on_tap(TAP_KINDS[kind])

    async def _imu_gyro(self):
        imu = self.board.imu
        ready = self._ready["imu"]
        change = self._gyro_change
        while True:
            hz = self.gyro_hz
            if self.status["imu"] != OK:
                await ready.wait()
                continue
            if hz != self._applied_gyro_hz:
                try:
                    imu.set_gyro_hz(hz)
                    self._applied_gyro_hz = hz
                except OSError as e:
                    await self._fault("imu", e)
                    continue
            if hz <= 0:
                change.clear()
                await change.wait()
                continue
            start = self._ticks()  # sample k is due at start + k * 1000 / hz (exact rate)
            k = 0
            while self.gyro_hz == hz and self.status["imu"] == OK:
                try:
                    x, y, z = imu.gyro()
                except OSError as e:
                    await self._fault("imu", e)
                    break
                t = self._ticks()
                self.samples += 1
                if self.on_gyro is not None:
                    self.on_gyro(x, y, z, t)
                k += 1
                if k >= hz:  # a whole second: move the origin, keep k small
                    start = self._add(start, 1000)
                    k = 0
                wait = self._diff(self._add(start, k * 1000 // hz), t)
                if wait < -1000:  # fell far behind (a long slice elsewhere): resync
                    start = t
                    k = 0
                    wait = 0
                await _s.sleep_ms(wait if wait > 0 else 0)

    async def _every(self, name, read):
        """Call read() every <name>_ms (deadline-based, the period re-read each round),
        with fault handling."""
        ready = self._ready[name]
        attr = name + "_ms"
        due = self._ticks()
        while True:
            if self.status[name] != OK:
                await ready.wait()
                due = self._ticks()
            try:
                read()
            except OSError as e:
                await self._fault(name, e)
                continue
            now = self._ticks()
            due = self._add(due, getattr(self, attr))
            wait = self._diff(due, now)
            if wait < 0:
                due = now
                wait = 0
            await _s.sleep_ms(wait)

    async def _prox(self):
        try:
            self._setup_prox()
        except (OSError, DriverError) as e:
            await self._fault("prox", e)
        await self._every("prox", self._read_prox)

    def _read_prox(self):
        c = self.board.prox.proximity()
        if self.on_prox is not None:
            self.on_prox(c, self._ticks())

    async def _gauge(self):
        try:
            self._setup_gauge()
        except (OSError, DriverError) as e:
            await self._fault("gauge", e)
        await self._every("gauge", self._read_gauge)

    def _read_gauge(self):
        g = self.board.gauge
        soc = g.soc()
        volts = g.voltage()
        charging = g.charge_rate() > _CHARGING_PCT_H
        if self.on_battery is not None:
            self.on_battery(soc, volts, charging, self._ticks())

    async def _touch(self):
        await self._every("touch", self._read_touch)

    def _read_touch(self):
        pads = self.board.touch
        for i in range(len(pads)):
            try:
                changed = pads[i].update()
            except ValueError as e:  # esp32 TouchPad.read(): "Touch pad error"
                raise OSError(5, str(e))
            if changed and self.on_touch is not None:
                self.on_touch(i, pads[i].touched, self._ticks())
