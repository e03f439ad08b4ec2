# Gesture recognition: touch taps / long press / swipes, IMU taps, nod and shake from
# synthetic gyro traces (positives and negatives). CPython and MicroPython.
# Heap budgets: 16 KB each (measured 1.3-9 KB; the recogniser itself is ~1 KB). Long
# traces are fed in chunks (generator tests) so MicroPython's GC runs between chunks.
from fwtest import raises

from firmware.runtime import clock
from firmware.runtime.clock import VirtualClock, ticks_add
from firmware.sense import gestures as G
from traces import Trace, oscillation, run, walking

HEAP_BUDGET = {}  # filled below: every test in this file gets 16 KB
T0 = (1 << 30) - 3000  # 3 s before the ticks wrap: every trace crosses the wrap


def _rec(pads=(0,), **kw):
    events = []
    acted = []
    g = G.Gestures(lambda k, p: events.append((k, p)), lambda k, p: acted.append(k),
                   pads=pads, **kw)
    return g, events, acted


def _touch(g, pad, t_down, t_up):
    g.on_touch(pad, True, ticks_add(T0, t_down))
    g.on_touch(pad, False, ticks_add(T0, t_up))


def _ticks(g, t_from, t_to, step=50):
    t = t_from
    while t <= t_to:
        g.tick(ticks_add(T0, t))
        t += step


def test_single_tap_fires_after_the_double_tap_window():
    g, ev, acted = _rec()
    _touch(g, 0, 0, 120)
    _ticks(g, 150, 400)  # still within the 300 ms double-tap window at 400
    assert ev == []
    _ticks(g, 450, 500)
    assert ev == [(G.TAP, 0)] and acted == [G.TAP]


def test_double_tap_and_not_two_singles():
    g, ev, _ = _rec()
    _touch(g, 0, 0, 100)
    g.tick(ticks_add(T0, 200))
    _touch(g, 0, 250, 330)
    _ticks(g, 350, 1500)
    assert ev == [(G.DOUBLE_TAP, 0)], ev


def test_two_taps_too_far_apart_are_two_singles():
    g, ev, _ = _rec()
    _touch(g, 0, 0, 100)
    _ticks(g, 150, 700)
    _touch(g, 0, 800, 900)
    _ticks(g, 950, 1500)
    assert ev == [(G.TAP, 0), (G.TAP, 0)], ev


def test_long_press_fires_while_held_and_once():
    g, ev, _ = _rec()
    g.on_touch(0, True, ticks_add(T0, 0))
    _ticks(g, 50, 750)
    assert ev == []
    _ticks(g, 800, 2000)  # still held
    g.on_touch(0, False, ticks_add(T0, 2100))
    _ticks(g, 2150, 3000)
    assert ev == [(G.LONG_PRESS, 0)], ev


def test_long_press_from_periodic_samples_without_ticks():
    g, ev, _ = _rec()
    for t in range(0, 1000, 100):
        g.on_touch(0, True, ticks_add(T0, t))
    assert ev == [(G.LONG_PRESS, 0)], ev


def test_a_hesitant_touch_is_nothing():
    g, ev, _ = _rec()
    _touch(g, 0, 0, 500)  # longer than a tap, shorter than a long press
    _ticks(g, 550, 2000)
    assert ev == []


def test_swipes_follow_the_boards_pad_order():
    # pads listed front first: "F" towards the hinge, "B" towards the ear
    g, ev, _ = _rec(pads=("F", "B"))
    _touch(g, "B", 0, 120)
    _touch(g, "F", 90, 200)  # finger moved towards the front
    _ticks(g, 250, 1000)
    _touch(g, "F", 2000, 2100)
    _touch(g, "B", 2080, 2200)
    _ticks(g, 2250, 3000)
    assert ev == [(G.SWIPE_FORWARD, "F"), (G.SWIPE_BACK, "B")], ev


def test_taps_on_either_pad_of_a_two_pad_board_are_taps():
    g, ev, _ = _rec(pads=("F", "B"))
    _touch(g, "B", 0, 100)
    _ticks(g, 150, 1000)  # the other pad not touched within the swipe window
    _touch(g, "F", 1500, 1600)
    _ticks(g, 1650, 2500)
    assert ev == [(G.TAP, "B"), (G.TAP, "F")], ev


def test_bad_touch_and_tap_samples_are_counted_not_raised():
    g, ev, _ = _rec()
    g.on_touch(9, True, T0)
    g.on_tap("triple")
    assert ev == [] and g.bad_samples == 2
    raises(ValueError, G.Gestures, lambda k, p: None, pads=())


def test_imu_taps_and_the_touch_guard():
    c = clock.use(VirtualClock(3))
    try:
        g, ev, _ = _rec()
        g.on_tap("single")
        g.on_tap("double")
        assert ev == [(G.TAP, "imu"), (G.DOUBLE_TAP, "imu")]
        now = c.ticks_ms()
        g.on_touch(0, True, now)
        g.on_touch(0, False, ticks_add(now, 80))
        c.advance_ms(100)
        g.on_tap("single")  # the same finger, seen by the IMU: ignored
        assert len(ev) == 2
        c.advance_ms(1000)
        g.tick(c.ticks_ms())  # the touch tap resolves
        g.on_tap("single")
        # the touch tap, then this IMU tap
        assert ev[-2] == (G.TAP, 0) and ev[-1] == (G.TAP, "imu") and len(ev) == 4, ev
    finally:
        clock.use(None)


def test_a_failing_dispatcher_does_not_stop_recognition():
    def boom(kind, payload):
        raise RuntimeError("action failed")
    ev = []
    g = G.Gestures(lambda k, p: ev.append(k), boom)
    g.on_tap("single")
    g.on_tap("double")
    assert ev == [G.TAP, G.DOUBLE_TAP] and g.dispatch_errors == 2


def test_a_failing_events_channel_still_lets_the_action_happen():
    def full(kind, payload):
        raise OSError("events channel full")
    acted = []
    now = [0]
    g = G.Gestures(full, lambda k, p: acted.append(k), now_ms=lambda: now[0])
    g.on_touch(0, True, 0)
    g.on_touch(0, False, 80)
    g.tick(500)
    now[0] = 200  # the injected clock: 120 ms after the touch, the IMU tap is the finger
    g.on_tap("single")
    now[0] = 1000
    g.on_tap("double")
    assert acted == [G.TAP, G.DOUBLE_TAP] and g.emit_errors == 2


# ---- head gestures ---------------------------------------------------------------------
def _head(trace_comps, dur_ms, noise=4, seed=7):
    g, ev, _ = _rec()
    tr = Trace(trace_comps, dur_ms, noise_dps=noise, seed=seed)
    return g, ev, tr


def test_nod_is_recognised_once():
    g, ev, tr = _head(oscillation(0, 120, 2500, 4, 500, other_axis=2, other_dps=15), 3000)
    for _ in tr.feed(g.on_gyro, T0, 100):
        yield
    assert ev == [(G.NOD, "head")], ev


def test_shake_is_recognised_once():
    g, ev, tr = _head(oscillation(2, 180, 3500, 5, 300, other_axis=0, other_dps=25), 3000)
    for _ in tr.feed(g.on_gyro, T0, 100):
        yield
    assert ev == [(G.SHAKE, "head")], ev


def test_gyro_floats_from_the_driver_work_too():
    g, ev, _ = _rec()
    run(Trace(oscillation(0, 130, 2500, 3, 100), 1500, noise_dps=0),
        lambda x, y, z, t: g.on_gyro(x + 0.4, y - 0.3, z * 1.0, t), T0)
    assert ev == [(G.NOD, "head")], ev


def test_nod_while_walking_is_still_a_nod():
    comps = walking(6000) + oscillation(0, 140, 2500, 4, 3000, other_axis=2, other_dps=15)
    g, ev, tr = _head(comps, 6000)
    for _ in tr.feed(g.on_gyro, T0, 100):
        yield
    assert ev == [(G.NOD, "head")], ev


def test_walking_is_neither_nod_nor_shake():
    g, ev, tr = _head(walking(20000), 20000)
    for _ in tr.feed(g.on_gyro, T0, 100):
        yield
    assert ev == [], ev


def test_brisk_walking_with_hard_heel_strikes_is_nothing():
    g, ev, tr = _head(walking(15000, pitch_dps=40, jolt_dps=160, seed=11), 15000, noise=8)
    for _ in tr.feed(g.on_gyro, T0, 100):
        yield
    assert ev == [], ev


def test_turning_the_head_once_is_not_a_shake():
    # 60 degrees to the side in 0.6 s, a small corrective overshoot, then still
    comps = [("lobe", 2, 160, 0, 500, 600, 0), ("lobe", 2, -35, 0, 1150, 250, 0)]
    g, ev, tr = _head(comps, 3000)
    for _ in tr.feed(g.on_gyro, T0, 100):
        yield
    assert ev == [], ev


def test_looking_left_and_right_before_crossing_is_not_a_shake():
    comps = [("lobe", 2, -150, 0, 200, 550, 0), ("lobe", 2, 160, 0, 1000, 1000, 0),
             ("lobe", 2, -150, 0, 2300, 550, 0)]
    g, ev, tr = _head(comps + walking(3500, start=0), 3500)
    for _ in tr.feed(g.on_gyro, T0, 100):
        yield
    assert ev == [], ev


def test_two_swings_are_not_enough_and_a_weak_nod_is_not_a_nod():
    g, ev, tr = _head(oscillation(0, 130, 2500, 2, 200), 1500)
    run(tr, g.on_gyro, T0)
    g2, ev2, tr2 = _head(oscillation(0, 45, 2500, 6, 200), 3000)
    run(tr2, g2.on_gyro, T0)
    assert ev == [] and ev2 == [], (ev, ev2)


def test_a_diagonal_wobble_is_neither():
    comps = [("sine", 0, 130, 2500, 200, 1600, 0), ("sine", 2, 130, 2500, 200, 1600, 0)]
    g, ev, tr = _head(comps, 2500)
    run(tr, g.on_gyro, T0)
    assert ev == [], ev


def test_lost_gyro_samples_restart_detection():
    g, ev, _ = _rec()
    tr = Trace(oscillation(0, 130, 2500, 4, 0), 1600, noise_dps=0)

    def gappy(x, y, z, t):  # 200 ms of samples lost in the middle of the nod
        rel = t - T0 if t >= T0 else t + (1 << 30) - T0
        if not 500 <= rel < 700:
            g.on_gyro(x, y, z, t)
    run(tr, gappy, T0)
    assert ev == [], ev


def test_an_imu_fault_forgets_half_seen_gestures():
    g, ev, _ = _rec()
    tr = Trace(oscillation(0, 130, 2500, 2, 0), 400, noise_dps=0)
    run(tr, g.on_gyro, T0)  # two swings seen
    assert g.on_fault("imu", "no ack") and not g.on_fault("prox", "x")
    run(Trace(oscillation(0, 130, 2500, 1, 0), 200, noise_dps=0), g.on_gyro, ticks_add(T0, 420))
    assert ev == [] and g.dead


for _name in list(globals()):
    if _name.startswith("test_"):
        HEAP_BUDGET[_name] = 16384
