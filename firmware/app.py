# The application: which services run on the board, and how they are wired together.
#
# On a board, main.py is two lines (docs/ota.md): it picks the firmware copy to boot
#     from firmware import bootmain                  # (factory or an update slot), then
#     bootmain.main()                                # app.main(board) of that copy
# The simulator calls start(sched, board) itself (sim/runner.py).
#
# Services are started by the functions in STARTERS, in order; each takes the App and
# spawns its tasks. A new service adds its starter here. Services talk through the App's
# small topic fan-out: app.emit("tap", "double") calls every listener of "tap" (and keeps
# the latest value in app.latest for status views).
import machine
from micropython import const

from firmware.runtime import sched as _s
from firmware.runtime.log import Log
from firmware.ble.service import start_link
from firmware.notify.service import start_notify
from firmware.ota.service import start_ota
from firmware.sense.service import start_senses
from firmware.sense.sampling import SensorService
from firmware.voice.service import start_voice

DEFAULTS = {
    "gyro_hz": 0,  # gyro off until a gesture service asks for it
    "prox_ms": 1000,
    "gauge_ms": 5000,
    "touch_ms": 100,
    "heartbeat_ms": 5000,
    "wdt_ms": 8000,
    "tap_buzz_ms": 40,
}
_MAX_LISTENERS = const(8)


class App:
    def __init__(self, sched, board, log=None, config=None):
        self.sched = sched
        self.board = board
        self.log = log if log is not None else sched.log
        self.config = dict(DEFAULTS)
        if config:
            self.config.update(config)
        self.services = {}
        self.latest = {}
        self.status_sources = {}  # name -> fn() giving a value for the phone's status view
        self.link = None  # firmware.ble.link.LinkService once start_link ran
        self.boot_ms = sched.clock.ticks_ms()
        self._listeners = {}

    def uptime_ms(self):
        c = self.sched.clock
        return c.ticks_diff(c.ticks_ms(), self.boot_ms)

    def listen(self, topic, fn):
        fns = self._listeners.setdefault(topic, [])
        if len(fns) >= _MAX_LISTENERS:
            raise ValueError("too many listeners for %s" % topic)
        fns.append(fn)

    def emit(self, topic, *args):
        self.latest[topic] = args
        for fn in self._listeners.get(topic, ()):
            fn(*args)


# ---- starters ------------------------------------------------------------------------------
def start_watchdog(app):
    """Arm the hardware watchdog; the scheduler feeds it while critical tasks check in."""
    ms = app.config["wdt_ms"]
    if ms:
        wdt = app.board.arm_watchdog(ms)
        app.sched.watchdog(wdt.feed, ms // 4)


def start_sensors(app):
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
    app.services["sensors"] = svc.start()
    log = app.log
    app.listen("tap", lambda kind: log.info("tap", kind))
    app.listen("touch", lambda pad, on, t: log.info("touch pad", pad, "down" if on else "up"))


def start_heartbeat(app):
    """A short blink of the status LED every heartbeat_ms: the firmware is alive."""
    led = app.board.led
    period = app.config["heartbeat_ms"]
    if led is None or not period:
        return

    async def heartbeat():
        while True:
            led.on()
            await _s.sleep_ms(20)
            led.off()
            await _s.sleep_ms(period - 20)

    app.sched.spawn(heartbeat, name="heartbeat", prio=_s.PRIO_BACKGROUND)


def start_feedback(app):
    """A short buzz acknowledges each recognised tap and touch."""
    haptic = app.board.haptic
    ms = app.config["tap_buzz_ms"]
    if haptic is None or not ms:
        return
    sched = app.sched
    running = [None]

    def buzz(*args):
        t = running[0]
        if t is None or t.done():  # one buzz at a time: input faster than that is one buzz
            running[0] = sched.spawn(haptic.pulse, ms, 60, name="buzz",
                                     prio=_s.PRIO_BACKGROUND)

    app.listen("tap", buzz)
    app.listen("touch", lambda pad, on, t: buzz() if on else None)


STARTERS = [start_watchdog, start_sensors, start_link, start_voice, start_senses, start_notify,
            start_ota, start_heartbeat, start_feedback]


def start(sched, board, log=None, config=None):
    """Start every service on this board; returns the App."""
    app = App(sched, board, log, config)
    app.log.info("boot: reset cause", machine.reset_cause(), board.name)
    for name, why in board.missing.items():
        app.log.warn("part missing", name, why)
    for starter in STARTERS:
        starter(app)
    return app


def main(board, config=None):
    """Entry point on a board: `board` is a built firmware.hw.Board or a board module
    (then it is built here); start the services and run forever."""
    log = Log(64)
    if hasattr(board, "build"):
        board = board.build(log=log)
    elif board.log is not None:
        log = board.log
    sched = _s.Scheduler(log=log, idle=board.idle)
    start(sched, board, log, config)
    sched.run()
