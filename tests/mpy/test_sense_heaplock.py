# MicroPython only: the sensing services allocate nothing per sample.
#
# Gyro traces (walking, a nod, a shake: gestures do fire), touch taps and long presses,
# proximity readings through put on / taken off, and fuel gauge readings are fed under
# micropython.heap_lock(), where any allocation raises MemoryError. The consumers'
# outputs are bound methods that only count, so what is measured is the recognisers.
import micropython

from firmware.runtime.clock import ticks_add
from firmware.sense.battery import Battery
from firmware.sense.gestures import Gestures
from firmware.sense.wear import PowerPolicy, Wear
from traces import Trace, oscillation, walking

# Far from the tick wraparound: clock.ticks_add's `(t + delta) & MASK` makes a big int
# (an allocation) when t + delta passes 2**30 on a 32-bit port; the traces would cross it.
T0 = 5000


class Counter:
    def __init__(self):
        self.n = 0
        self.last = None

    def two(self, a, b):
        self.n += 1
        self.last = a

    def one(self, a):
        self.n += 1
        self.last = a


def test_gyro_touch_prox_battery_samples_allocate_nothing():
    out = Counter()
    g = Gestures(out.two, out.two, pads=(0, 1))
    pol = PowerPolicy(mic=out.one, audio_mute=out.one, sensor_rate=out.one, link=out.one)
    w = Wear(pol, out.two, out.two)
    b = Battery(notify_level=out.one, shed=out.one)
    traces = (Trace(walking(4000), 4000), Trace(oscillation(0, 130, 2500, 4, 200), 1500),
              Trace(oscillation(2, 180, 3500, 5, 200), 1500))
    feeds = [traces[i].feed(g.on_gyro, T0 + 10000 * i, 0) for i in range(3)]
    micropython.heap_lock()
    try:
        for f in feeds:
            for _ in f:
                pass
        nods = out.n
        t = 40000
        for _ in range(20):  # taps, double taps, long presses, swipes
            g.on_touch(0, True, ticks_add(T0, t))
            g.on_touch(0, False, ticks_add(T0, t + 80))
            g.tick(ticks_add(T0, t + 500))
            g.on_touch(1, True, ticks_add(T0, t + 600))
            g.on_touch(0, True, ticks_add(T0, t + 700))
            g.on_touch(1, False, ticks_add(T0, t + 750))
            g.on_touch(0, False, ticks_add(T0, t + 800))
            g.on_touch(0, True, ticks_add(T0, t + 2000))
            g.tick(ticks_add(T0, t + 2900))
            g.on_touch(0, False, ticks_add(T0, t + 3000))
            t += 4000
        for i in range(400):  # on and off the head every 50 readings
            w.on_prox(2000 if (i // 50) % 2 == 0 else 300, ticks_add(T0, i * 250))
            w.tick(ticks_add(T0, i * 250 + 100))
        for i in range(300):
            b.on_battery(90 - i // 10, 3.9, False, ticks_add(T0, i * 1000))
    finally:
        micropython.heap_unlock()
    # nod and shake (each counted by emit and dispatch); tap + swipe + long press x 20
    assert nods == 4 and g.count == 2 + 60, (nods, g.count)
    assert w.changes == 8 and b.notified == 61
