# The application: which features run on the board, and how they are wired together.
#
# On a board, main.py is two lines (docs/ota.md): it picks the firmware copy to boot
#     from firmware import bootmain                  # (factory or an update slot), then
#     bootmain.main()                                # app.main(board) of that copy
# The simulator calls start(sched, board) itself (sim/runner.py).
#
# start() brings the board's shared parts up (watchdog, sensor sampling, the LED and
# haptic players), then each feature of FEATURES the board has the parts for, in that
# order, by importing its module by name and calling its start(app): a feature the board
# lacks is never imported, so it costs no RAM. Every slot a feature fills is declared in
# App (None while it is off), so what a feature may use of another is visible here.
#
# Features talk through the App's topics (an Emitter, firmware/runtime/observe.py):
# app.emit("tap", "double") calls every app.on("tap", fn) listener and keeps the latest
# value in app.latest (for status views).
import sys

from micropython import const

from firmware.runtime import sched as _s
from firmware.runtime.log import Log
from firmware.runtime.observe import Emitter

DEFAULTS = {
    "gyro_hz": 0,  # gyro off until a gesture service asks for it
    "prox_ms": 1000,
    "gauge_ms": 5000,
    "touch_ms": 100,
    "heartbeat_ms": 5000,
    "wdt_ms": 8000,
    "tap_buzz_ms": 40,
    "log_records": 64,  # the log ring (app.boot)
}

# (slot, module, the board parts it needs, what the log says without them). In start
# order: the link first (the others route on it), senses before notify (notify asks it
# for nod / shake), OTA (it reports the boot to the phone), then the battery's end (it
# uses the voice and the link to say goodbye).
FEATURES = (
    ("link", "firmware.ble.service", ("ble", "store"),
     "link: no radio or no flash store; running without a phone"),
    ("voice", "firmware.voice.service", ("mic", "speaker"),
     "voice: no microphone or speaker; voice is off"),
    ("senses", "firmware.sense.service", (), None),
    ("notify", "firmware.notify.service", ("store",),
     "notify: no flash store; notifications are off"),
    ("ota", "firmware.ota.service", ("store",), "ota: no flash store; updates off"),
    ("camera", "firmware.camera.service", ("camera", "store"), None),
    ("power", "firmware.power.service", ("store",), None),
)

_TOPICS = ("tap", "touch", "gyro", "prox", "battery", "fault", "voice_action")
_MAX_STATUS = const(10)


class App(Emitter):
    EVENTS = _TOPICS

    def __init__(self, sched, board, log=None, config=None):
        Emitter.__init__(self)
        self.sched = sched
        self.board = board
        self.log = log if log is not None else sched.log
        self.config = dict(DEFAULTS)
        self.config.update(getattr(board, "config", None) or {})  # the board's choice
        if config:
            self.config.update(config)
        self.latest = {}  # topic -> the last args emitted
        self.status_sources = {}  # name -> fn() giving a value for the phone's status view
        self.boot_ms = sched.clock.ticks_ms()
        # shared parts (start_parts)
        self.sensors = None  # firmware.sense.sampling.SensorService
        self.leds = None  # firmware.outputs.LedPlayer on the status LED
        self.motor = None  # firmware.outputs.HapticPlayer on the haptic motor
        # features (FEATURES), None while off
        self.link = None  # firmware.ble.link.LinkService
        self.gatt = None  # firmware.ble.gatt.GattPeripheral (with the link)
        self.voice = None  # firmware.voice.service.Voice
        self.senses = None  # firmware.sense.service.Senses
        self.notify = None  # firmware.notify.service.Notify
        self.ota = None  # firmware.ota.service.OtaService
        self.camera = None  # firmware.camera.service.CameraService
        self.power = None  # firmware.power.service.Power (the battery's end)
        # the wall clock (firmware/runtime/wall.py; set from the phone's TIME) and the
        # power record the boot found (firmware/power/service.py boot_check)
        self.wall = None
        self.power_record = {}
        # the battery policy, as the senses decide it for everyone (sense/service.py)
        self.shedding = False  # battery critical: load shed
        self.ota_allowed = None  # fn() -> bool: may an update start now?
        self.ota_refusal = None  # fn() -> why not (None: it may)

    @property
    def services(self):
        """The running services by name (for the tests and the simulator's views)."""
        d = {}
        for name in ("sensors", "link", "voice", "notify", "ota"):
            svc = getattr(self, name)
            if svc is not None:
                d[name] = svc
        return d

    def uptime_ms(self):
        c = self.sched.clock
        return c.ticks_diff(c.ticks_ms(), self.boot_ms)

    def emit(self, topic, *args):
        self.latest[topic] = args
        Emitter.emit(self, topic, *args)

    def status(self, name, fn):
        """fn() gives the value of `name` in the phone's status view."""
        if len(self.status_sources) >= _MAX_STATUS and name not in self.status_sources:
            raise ValueError("too many status sources")
        self.status_sources[name] = fn


# ---- the board's shared parts ----------------------------------------------------------
def start_watchdog(app):
    """Arm the hardware watchdog; the scheduler feeds it while critical tasks check in."""
    ms = app.config["wdt_ms"]
    if ms:
        wdt = app.board.arm_watchdog(ms)
        app.sched.watchdog(wdt.feed, ms // 4)


def start_sensors(app):
    from firmware.sense.sampling import SensorService
    c = app.config
    svc = SensorService(
        app.sched, app.board,
        on_tap=lambda kind: app.emit("tap", kind),
        on_gyro=lambda x, y, z, t: app.emit("gyro", x, y, z, t),
        on_prox=lambda n, t: app.emit("prox", n, t),
        on_battery=lambda soc, v, chg, t: app.emit("battery", soc, v, chg, t),
        on_touch=lambda pad, on, t: app.emit("touch", pad, on, t),
        on_fault=lambda part, why: app.emit("fault", part, why),
        gyro_hz=c["gyro_hz"], prox_ms=c["prox_ms"], gauge_ms=c["gauge_ms"],
        touch_ms=c["touch_ms"], log=app.log)
    app.sensors = svc.start()
    log = app.log
    app.on("tap", lambda kind: log.info("tap", kind))
    app.on("touch", lambda pad, on, t: log.info("touch pad %d %s", pad, "down" if on else "up"))


def start_outputs(app):
    """The one player per output: the status LED (notification patterns, the heartbeat
    blink through leds.shared) and the haptic motor (patterns, the tap buzz)."""
    b = app.board
    s = app.sched
    if b.led is None and b.haptic is None:
        return
    from firmware.outputs import HapticPlayer, LedPlayer
    if b.led is not None:
        app.leds = LedPlayer(s, b.led)
        s.spawn(app.leds.run, name="led", prio=_s.PRIO_BACKGROUND, restart=_s.RESTART_ON_ERROR)
    if b.haptic is not None:
        app.motor = HapticPlayer(s, b.haptic, clock=s.clock)
        s.spawn(app.motor.run, name="haptic", prio=_s.PRIO_SENSOR, restart=_s.RESTART_ON_ERROR)


def start_heartbeat(app):
    """A short blink of the status LED every heartbeat_ms: the firmware is alive."""
    period = app.config["heartbeat_ms"]
    if app.leds is None or not period:
        return
    led = app.leds.shared  # passes through only while no pattern shows

    async def heartbeat():
        while True:
            led.on()
            await _s.sleep_ms(20)
            led.off()
            await _s.sleep_ms(period - 20)

    app.sched.spawn(heartbeat, name="heartbeat", prio=_s.PRIO_BACKGROUND)


def start_feedback(app):
    """A short buzz acknowledges each recognised tap and touch (never over a pattern the
    haptic player is playing: that buzz is feedback enough)."""
    motor = app.motor
    ms = app.config["tap_buzz_ms"]
    if motor is None or not ms:
        return

    def buzz(*args):
        motor.play("tap", 60, idle_only=True)

    app.on("tap", buzz)
    app.on("touch", lambda pad, on, t: buzz() if on else None)


def _has(board, parts):
    for p in parts:
        if getattr(board, p) is None:
            return False
    return True


def start_features(app):
    for slot, module, parts, why_not in FEATURES:
        if not _has(app.board, parts):
            if why_not:
                app.log.warn(why_not)
            continue
        __import__(module)
        setattr(app, slot, sys.modules[module].start(app))


def start(sched, board, log=None, config=None):
    """Start everything this board has; returns the App."""
    import machine
    app = App(sched, board, log, config)
    cause = machine.reset_cause()
    app.log.info("boot: %s, reset cause %s", board.name, cause)
    if board.store is not None:
        from firmware.power import service as power
        app.power_record = power.boot_check(app)  # may go back to sleep: a flat battery
        from firmware.runtime.wall import Wall
        app.wall = Wall(sched.clock, board.store, cause, app.log)
    for name, why in board.missing.items():
        app.log.warn("%s missing: %s", name, why)
    start_watchdog(app)
    start_sensors(app)
    start_outputs(app)
    start_features(app)
    start_heartbeat(app)
    start_feedback(app)
    board.tune_clock()  # booted at full speed; idle from here on (firmware/hw.py)
    return app


def boot(board, config=None):
    """Build the board (`board` is a board module, or a built firmware.hw.Board) and
    start the services on a new scheduler; returns the App (app.sched runs it). The
    board's DATA["config"] is the app config it chooses (buffer sizes, ...; the App
    merges it); `config` goes over it."""
    data = getattr(board, "DATA", None)
    n = DEFAULTS["log_records"]
    for c in ((data or {}).get("config"), config):
        if c and "log_records" in c:
            n = c["log_records"]
    log = Log(n)
    if hasattr(board, "build"):
        board = board.build(log=log)
    elif board.log is not None:
        log = board.log
    sched = _s.Scheduler(log=log, idle=board.idle)
    return start(sched, board, log, config)


def main(board, config=None):
    """Entry point on a board: boot() it, then run forever."""
    boot(board, config).sched.run()
