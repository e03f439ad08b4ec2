# The wearer's pairing gesture (firmware/sense/service.py): both pads held opens the
# pairing window after the board's pairing_hold_ms; held on to 5 s forgets every phone.
# The GATT peripheral is a stand-in that records what the gesture asked. CPython and
# MicroPython.
from fwtest import virtual_scheduler
from test_senses_notify_wiring import App, Board, FakeSensors, FakeVoice

from firmware.runtime import sched as S
from firmware.sense.service import start as start_senses

HEAP_BUDGET = {"test_both_pads_held_open_the_window_then_forget": 32768}
# imports included: the senses, notify and LED wiring (via test_senses_notify_wiring);
# the unix port (64-bit) needs ~1.3x the WebAssembly figure
FILE_HEAP_BUDGET = 160 * 1024


class FakeGatt:
    def __init__(self, clock):
        self.clock = clock
        self.asked = []

    def open_pairing(self):
        self.asked.append(("open", self.clock.elapsed_ms()))

    def forget_bonds(self, key=None):
        self.asked.append(("forget", self.clock.elapsed_ms()))

    def set_battery(self, pct):
        pass


def _hold_both(app, c, ms):
    async def script():
        app.emit("touch", 0, True, c.ticks_ms())
        app.emit("touch", 1, True, c.ticks_ms())
        await S.sleep_ms(ms)
        app.emit("touch", 0, False, c.ticks_ms())
        app.emit("touch", 1, False, c.ticks_ms())
    return script


def test_both_pads_held_open_the_window_then_forget():
    s = virtual_scheduler(seed=6)
    c = s.clock
    b = Board(c)
    b.options = {"pairing_hold_ms": 1500}  # the board's data says how long
    app = App(s, b)
    app.sensors = FakeSensors()
    app.voice = FakeVoice()
    gatt = app.gatt = FakeGatt(c)
    start_senses(app)
    yield
    s.spawn(_hold_both(app, c, 1000))  # too short: nothing
    s.run(until_ms=2000)
    assert gatt.asked == []
    s.spawn(_hold_both(app, c, 3000))  # the window, once, at 1.5 s
    s.run(until_ms=6000)
    assert [k for k, _ in gatt.asked] == ["open"]
    assert 3490 <= gatt.asked[0][1] <= 3700, gatt.asked
    yield
    s.spawn(_hold_both(app, c, 6000))  # held on: the window, then forget every phone
    s.run(until_ms=14000)
    assert [k for k, _ in gatt.asked] == ["open", "open", "forget"], gatt.asked
