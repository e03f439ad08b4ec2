# The battery's end as a feature of the app (docs/power.md, "The battery's end").
#
# At the cut-off (policy.End on the fuel gauge's readings) the glasses turn off cleanly,
# once: a chime and a spoken goodbye (through the phone, if it is there), an EVENT "power"
# {"state": "off", "why": "battery", "pct", "volts", "at": wall seconds or None} that the
# phone shows ("glasses off: battery empty, last seen 14:02 at 2 %"), the record of it in
# flash, the radio off, then deep sleep with a touch and a timer (recheck_s) as the wake
# sources. Everything else that must survive is already in flash when it changes: the
# notification queue and the unsent actions (firmware/notify/), the timers and reminders
# with their wall-clock due times (firmware/voice/actions.py), the update's staging
# (firmware/ota/), the bonds.
#
# boot_check(app), first thing at every boot: after that deep sleep, a cell still below
# the resume level sends the glasses straight back to sleep (nothing else starts); with
# enough charge they boot normally and tell the phone {"state": "on", "off_at": ...}. A
# boot that finds the record of a run that never ended cleanly (power cut, brown-out)
# says so in the log and counts it.
import machine

from firmware.power.policy import End
from firmware.protocol.channels import EVENTS
from firmware.runtime import sched as _s

RECORD = "power"
_DEEPSLEEP_RESET = 4  # machine.DEEPSLEEP_RESET (esp32 and the mirror)
_CHARGING_PCT_H = 1.0  # the gauge's charge rate above this: on the charger
GOODBYE = "Battery empty. Turning off; charge the glasses to turn them back on."


def _cfg(board):
    return (board.options or {}).get("power") or {}


def _gauge_now(board):
    """(pct, volts, charging) from the fuel gauge now, or None without one."""
    g = board.gauge
    if g is None:
        return None
    try:
        return g.soc(), g.voltage(), g.charge_rate() > _CHARGING_PCT_H
    except OSError:
        return None


def boot_check(app):
    """First thing at boot. Returns the record of the last run (a dict); does not return
    when the battery is still too low after its shutdown (back to deep sleep)."""
    b = app.board
    rec = b.store.read_cbor(RECORD)
    if not isinstance(rec, dict):
        rec = {}
    cause = machine.reset_cause()
    if rec.get("state") == "off" and cause == _DEEPSLEEP_RESET:
        now = _gauge_now(b)
        end = End(_cfg(b))
        if now is not None and not end.resume_ok(now[0], now[1], now[2]):
            app.log.info("still too low to run (%d%%): back to sleep", int(now[0]))
            sleep(b, end.c["recheck_s"])
        app.log.info("back on after the battery ran out (now %s)",
                     "unknown" if now is None else "%d%%" % int(now[0]))
    elif rec.get("state") == "run" and cause != _DEEPSLEEP_RESET:
        rec["unclean"] = rec.get("unclean", 0) + 1
        app.log.warn("the last run ended without a clean shutdown (power cut or "
                     "brown-out; %d so far)", rec["unclean"])
    return rec


def sleep(board, recheck_s):
    """Deep sleep for the battery: a touch (where the board can) or the timer wakes it.
    The 3.3 V rail stays up in deep sleep, so the sensors on it are parked first (the
    proximity sensor off, the IMU powered down); a camera without a PWDN line keeps its
    standby draw (docs/power.md)."""
    for fn in (_radio_off, _prox_off, _imu_off):
        try:
            fn(board)
        except (OSError, AttributeError):
            pass
    board.deepsleep(recheck_s * 1000, touch=True)


def _radio_off(b):
    if b.ble is not None:
        b.ble.active(False)


def _prox_off(b):
    if b.prox is not None:
        b.prox.disable_proximity()
        b.prox.disable_light()


def _imu_off(b):
    if b.imu is not None:
        b.imu.power_down()


class Power:
    def __init__(self, app, last):
        self.app = app
        self.end = End(_cfg(app.board))
        self.last = last  # the record found at boot
        self.unclean = last.get("unclean", 0)
        self.offs = last.get("offs", 0)
        self.stopping = False
        self.to_tell = last if last.get("state") == "off" else None  # "back on" for the phone

    def start(self):
        app = self.app
        app.on("battery", self.on_battery)
        self._write({"state": "run", "unclean": self.unclean, "offs": self.offs})
        if app.link is not None:
            app.link.on("up", self._on_link)
        return self

    def _write(self, rec):
        try:
            self.app.board.store.write_cbor(RECORD, rec)
        except OSError as e:
            self.app.log.warn("power record not saved: %s", str(e))

    def _on_link(self, up):
        t = self.to_tell
        if up and t is not None:
            self.to_tell = None
            self.app.link.event("power", {"state": "on", "off_at": t.get("at"),
                                          "off_pct": t.get("pct")})

    def on_battery(self, soc, volts, charging, t_ms):
        if self.end.feed(soc, volts, charging) and not self.stopping:
            self.stopping = True
            self.app.sched.spawn(self._shutdown, name="power-off", prio=_s.PRIO_LINK)

    async def _shutdown(self):
        app = self.app
        c = self.end.c
        pct, volts = self.end.last
        pct = int(pct)
        app.log.warn("battery empty (%d%%, %d mV): turning off", pct, int(volts * 1000))
        v = app.voice
        if v is not None:
            v.chime("battery_critical")
            v.say(GOODBYE)
        await self._until(lambda: v is None or not v.busy(), c["say_ms"])
        wall = app.wall.now_s() if app.wall is not None else None
        link = app.link
        if link is not None and link.up:
            link.event("power", {"state": "off", "why": "battery", "pct": pct,
                                 "volts": volts, "at": wall})
            await self._until(lambda: not link.up or link.pending(EVENTS) == 0,
                              c["tell_ms"])
        self.offs += 1
        self._write({"state": "off", "why": "battery", "pct": pct, "at": wall,
                     "unclean": self.unclean, "offs": self.offs})
        app.log.warn("turned off; charge the glasses to turn them back on")
        sleep(app.board, c["recheck_s"])

    async def _until(self, done, ms):
        step = 100
        while ms > 0 and not done():
            await _s.sleep_ms(step)
            ms -= step

    def status(self):
        last = self.end.last
        return {"cutoff_pct": self.end.c["cutoff_pct"], "unclean_boots": self.unclean,
                "battery_offs": self.offs, "stopping": self.stopping,
                "level": None if last is None else int(last[0])}


def start(app):
    """The battery's end (app.power): the board has a flash store (firmware/app.py)."""
    p = Power(app, app.power_record).start()
    app.status("power", p.status)
    return p
