# The sense and notification services as the app wires them (firmware/sense/service.py,
# notify.py), on a board stand-in with no radio, in virtual time: topics in, local actions
# and outputs out; the local time, the LED and haptic players. CPython and MicroPython.
from fwtest import raises, virtual_scheduler
from notify_helpers import fresh_store, wire

from firmware import app as _app
from firmware.notify import wire as W
from firmware.notify.localtime import LocalTime
from firmware.outputs import HapticPlayer, LedPlayer
from firmware.runtime import sched as S
from firmware.notify.service import start as start_notify
from firmware.sense.service import HEAD_HZ, LOW_RATES
from firmware.sense.service import start as start_senses

HEAP_BUDGET = {"test_services_on_a_board_without_radio": 32768}
# imports included: senses, notify, the outputs, a board; ~117 KB under WebAssembly, the
# unix port (64-bit) needs more
FILE_HEAP_BUDGET = 160 * 1024


class FakeLed:
    def __init__(self, clock):
        self.clock = clock
        self.on_ = False
        self.log = []

    def value(self, on=None):
        if on is None:
            return self.on_
        if bool(on) != self.on_:
            self.on_ = bool(on)
            self.log.append((self.clock.elapsed_ms(), self.on_))
        return None

    def on(self):
        self.value(True)

    def off(self):
        self.value(False)

    def is_on(self):
        return self.on_


class FakeMotor:
    def __init__(self, clock):
        self.clock = clock
        self.log = []

    def on(self, pct=100):
        self.log.append((self.clock.elapsed_ms(), pct))

    def off(self):
        self.log.append((self.clock.elapsed_ms(), 0))


class FakeSensors:
    def __init__(self):
        self.gyro = []
        self.periods = {}

    def set_gyro_hz(self, hz):
        self.gyro.append(hz)

    def set_period_ms(self, part, ms):
        self.periods[part] = ms


class FakeVoice:
    def __init__(self):
        self.said = []
        self.chimes = []
        self.talks = 0
        self.muted = []

    def say(self, text):
        self.said.append(text)

    def chime(self, name):
        self.chimes.append(name)

    def talk(self):
        self.talks += 1

    def mute(self, on):
        self.muted.append(on)


def App(sched, board):
    """The firmware's App on this board stand-in, with the shared outputs started."""
    app = _app.App(sched, board, config={"prox_ms": 1000, "touch_ms": 100, "gauge_ms": 5000,
                                         "notify_tap_hints": 0})
    _app.start_outputs(app)
    return app


class Board:
    name = "stand-in"
    options = {}  # the board data's options (none)

    def __init__(self, clock):
        self.touch = (0, 1)  # two pads; the sense service only counts them
        self.imu = self.prox = self.gauge = object()  # present (the tests feed topics)
        self.led = FakeLed(clock)
        self.haptic = FakeMotor(clock)
        self.store = fresh_store()
        self.missing = {}

    def has(self, cap):
        return False


def test_local_time_from_the_phone():
    s = virtual_scheduler(seed=3)
    c = s.clock
    t = LocalTime(c, resync_ms=6 * 3600000)
    assert t.local_minute() is None and t.hhmm() is None and t.stale()
    t.set(1767250800 + 59, 60)  # 07:00:59 UTC, at UTC+1: 08:00:59
    assert t.hhmm() == "08:00" and not t.stale() and t.offset_min == 60
    c.advance_ms(1000)
    assert t.local_minute() == 8 * 60 + 1
    c.advance_ms(16 * 3600000)  # across midnight, re-anchored on the way
    assert t.hhmm() == "00:01"
    assert t.stale()  # six hours without a TIME
    assert "whole seconds" in t.on_message({1: "noon"})
    assert "within +-18 h" in t.on_message({1: 0, 2: 1200})
    assert t.refused == 2 and t.hhmm() == "00:01"  # the good time stands
    assert t.on_message({1: 1767225600, 2: None}) is None  # midnight UTC, no offset given
    assert t.hhmm() == "00:00" and not t.stale()


def test_led_and_haptic_players():
    s = virtual_scheduler(seed=4)
    c = s.clock
    led = FakeLed(c)
    motor = FakeMotor(c)
    leds = LedPlayer(s, led)
    haptic = HapticPlayer(s, motor, clock=c)
    s.spawn(leds.run)
    s.spawn(haptic.run)
    assert "no LED pattern 'blink'" in str(raises(ValueError, leds.show, "blink"))
    assert "no haptic pattern 'buzz'" in str(raises(ValueError, haptic.play, "buzz"))

    async def script():
        leds.show("waiting_urgent")  # 150 on / 850 off
        leds.shared.on()  # the heartbeat cannot cut into a pattern
        haptic.play("urgent")  # on at once: 120, 80, 120, 80, 120
        assert motor.log == [(0, 80)]
        await S.sleep_ms(2100)
        leds.show("off")
        await S.sleep_ms(10)
        leds.shared.on()  # no pattern: the heartbeat passes through
        haptic.play("tick")
        await S.sleep_ms(10)
        haptic.play("confirm")  # replaces the tick mid-way
        await S.sleep_ms(100)

    s.spawn(script)
    s.run(until_ms=2300)
    assert led.log[:4] == [(0, True), (150, False), (1000, True), (1150, False)], led.log
    assert led.log[4:] == [(2000, True), (2100, False), (2110, True)], led.log
    assert motor.log[:6] == [(0, 80), (120, 0), (200, 80), (320, 0), (400, 80), (520, 0)]
    assert motor.log[6:] == [(2110, 80), (2120, 80), (2160, 0)], motor.log


def test_services_on_a_board_without_radio():
    s = virtual_scheduler(seed=5)
    c = s.clock
    b = Board(c)
    app = App(s, b)
    sensors = app.sensors = FakeSensors()
    voice = app.voice = FakeVoice()
    senses = start_senses(app)
    n = start_notify(app)
    assert app.notify is n and app.senses is senses and app.ota_allowed() is False
    assert app.ota_refusal() == "battery level not measured yet"
    yield

    async def script():
        app.emit("battery", 50.0, 3.8, False, c.ticks_ms())
        for _ in range(3):  # put on: near for 1.5 s
            app.emit("prox", 2500, c.ticks_ms())
            await S.sleep_ms(1000)
        # a tap with nothing waiting talks
        app.emit("touch", 0, True, c.ticks_ms())
        await S.sleep_ms(100)
        app.emit("touch", 0, False, c.ticks_ms())
        await S.sleep_ms(500)
        # a notification that asks: presented, the gyro on for the answer
        n.on_host(W.notify(wire("q1", asks="Coffee?")))
        await S.sleep_ms(100)
        app.emit("tap", "single")  # an IMU knock waits for a possible double ...
        await S.sleep_ms(100)
        app.emit("tap", "double")  # ... which comes: no talk; q1 has no action: nope
        await S.sleep_ms(800)
        # the wear sensor dies: assumed worn (it already was), degraded
        app.emit("fault", "prox", "I/O error ENODEV")
        app.emit("battery", 19.5, 3.6, False, c.ticks_ms())
        await S.sleep_ms(100)

    s.spawn(script)
    s.run(until_ms=6000)
    yield
    assert senses.wear.worn() and senses.wear.degraded
    assert voice.talks == 1  # the touch tap, not the IMU double
    assert voice.said == ["Chat: Hi", "Battery low, 19 percent"], voice.said
    assert voice.chimes == ["message", "battery_low"], voice.chimes
    assert sensors.gyro == [HEAD_HZ]  # on for q1's question, still open
    assert [e[1] for e in b.haptic.log if e[1]] == [80, 80, 80]  # q1's tick; nope: 2 buzzes
    assert senses.events == 0 and senses.events_skipped == 0  # no radio: no events at all
    assert app.status_sources["notifications"]()["current"] == "q1"
    st = app.status_sources["senses"]()
    assert st["wear"] == "worn" and st["degraded"] and st["battery"] == 19
    assert st["gyro_hz"] == HEAD_HZ and st["ota"].startswith("battery at 19%")
    # taken off (the sensor is back): saving, gyro off, sensors slow
    senses.wear.on_prox(100, c.ticks_ms())
    c.advance_ms(6000)
    senses.wear.tick(c.ticks_ms())
    assert not senses.wear.worn() and voice.muted == [False, True]  # put on, taken off
    assert sensors.gyro == [HEAD_HZ, 0] and sensors.periods == LOW_RATES
    # battery critical: load shed, LED patterns off
    app.emit("battery", 2.0, 3.4, False, c.ticks_ms())
    assert app.shedding and n.shedding and n.leds.name == "off"
    assert "Battery critical, saving power" in voice.said
